"""Score a retriever on an evaluation file (format: tests/data/EVAL_FORMAT.md).

For each answerable item: the rank of the first returned passage that answers it
(:func:`retrieval.scoring.answers`), giving Recall@1/3/5/10 and MRR@10, for BM25 alone,
dense alone and the final pipeline. For ``none`` items: whether the pipeline abstained.
"""
from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

from .scoring import answers
from .search import Retriever

KS = (1, 3, 5, 10)
METHODS = ("bm25", "dense", "hybrid", "final")


class EvalError(Exception):
    pass


def load_items(path: Path) -> list[dict]:
    items = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as e:
                raise EvalError(f"{path}:{n}: ikke gyldig JSON ({e})") from e
            if not isinstance(item, dict) or "question" not in item or "gold" not in item:
                raise EvalError(f"{path}:{n}: mangler 'question' eller 'gold'")
            item.setdefault("id", f"line{n}")
            item.setdefault("type", "none" if not item["gold"] else "unknown")
            item.setdefault("difficulty", "")
            items.append(item)
    if not items:
        raise EvalError(f"{path}: ingen spørsmål")
    return items


def _metrics(ranks: list[int | None]) -> dict:
    n = len(ranks) or 1
    out = {f"recall@{k}": sum(1 for r in ranks if r is not None and r < k) / n for k in KS}
    out["mrr@10"] = sum(1 / (r + 1) for r in ranks if r is not None and r < 10) / n
    out["n"] = len(ranks)
    return out


def evaluate(retriever: Retriever, items: list[dict]) -> dict:
    answerable = [it for it in items if it["gold"]]
    unanswerable = [it for it in items if not it["gold"]]
    ranks: dict[str, list[int | None]] = {m: [] for m in METHODS}
    per_item = []
    wrongly_abstained = 0
    by_group: dict[str, dict[str, list[int | None]]] = defaultdict(lambda: {"ranks": []})
    t0 = time.perf_counter()
    for it in answerable:
        row = {"id": it["id"], "question": it["question"]}
        for m in METHODS:
            if m == "final":
                result = retriever.search(it["question"], k=10, abstain=False)
                passages = [h.chunk.display for h in result.hits]
                abstained = retriever.search(it["question"], k=10).abstained
                wrongly_abstained += int(abstained)
                row["abstained"] = abstained
            else:
                passages = [retriever.chunks[i].display for i in retriever.rank(it["question"], m)[:10]]
            r = next((i for i, p in enumerate(passages) if answers(p, it["gold"])), None)
            ranks[m].append(r)
            row[m] = r
        for key in (f"type:{it['type']}", f"difficulty:{it['difficulty']}"):
            by_group[key]["ranks"].append(row["final"])
        per_item.append(row)
    correct_abstain = 0
    for it in unanswerable:
        res = retriever.search(it["question"], k=10)
        correct_abstain += int(res.abstained)
        per_item.append({"id": it["id"], "question": it["question"], "abstained": res.abstained})
    return {
        "items": len(items),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "methods": {m: _metrics(ranks[m]) for m in METHODS},
        "groups": {k: _metrics(v["ranks"]) for k, v in sorted(by_group.items())},
        "abstention": {
            "none_correctly_abstained": correct_abstain / len(unanswerable) if unanswerable else None,
            "answerable_wrongly_abstained": wrongly_abstained / len(answerable) if answerable else None,
            "threshold": retriever.abstain_threshold,
        },
        "seconds": round(time.perf_counter() - t0, 2),
        "per_item": per_item,
    }


def format_report(report: dict, show_failures: bool = False) -> str:
    lines = [
        f"{report['items']} spørsmål: {report['answerable']} med svar, {report['unanswerable']} uten svar i dokumentene",
        "",
        "(hybrid: dense + BM25 uten glossar; final: hele løsningen med glossar)",
        f"{'metode':<8} {'R@1':>6} {'R@3':>6} {'R@5':>6} {'R@10':>6} {'MRR@10':>7}",
    ]
    for m, v in report["methods"].items():
        lines.append(
            f"{m:<8} {v['recall@1']:>6.3f} {v['recall@3']:>6.3f} {v['recall@5']:>6.3f} {v['recall@10']:>6.3f} {v['mrr@10']:>7.3f}"
        )
    lines += ["", "Endelig løsning per gruppe:", f"{'gruppe':<22} {'n':>3} {'R@1':>6} {'R@5':>6} {'MRR@10':>7}"]
    for g, v in report["groups"].items():
        lines.append(f"{g:<22} {v['n']:>3} {v['recall@1']:>6.3f} {v['recall@5']:>6.3f} {v['mrr@10']:>7.3f}")
    a = report["abstention"]
    lines += ["", f"Avstår (terskel {a['threshold']:.3f}):"]
    if a["none_correctly_abstained"] is not None:
        lines.append(f"  riktig avstått på spørsmål uten svar: {a['none_correctly_abstained']:.0%}")
    if a["answerable_wrongly_abstained"] is not None:
        lines.append(f"  feilaktig avstått på spørsmål med svar: {a['answerable_wrongly_abstained']:.0%}")
    lines.append(f"\nTid: {report['seconds']} s")
    if show_failures:
        fails = [r for r in report["per_item"] if "final" in r and (r["final"] is None or r["final"] >= 5)]
        if fails:
            lines.append("\nIkke i topp 5:")
            lines += [f"  {r['id']}: {r['question']} (rang {r['final']})" for r in fails]
    return "\n".join(lines)
