"""Score a retriever on an evaluation file (format: tests/data/EVAL_FORMAT.md).

Two recalls, side by side:

* **ranking recall**: the rank of the first returned passage that answers an item
  (:func:`retrieval.scoring.answers`), ignoring the not-covered decision; for BM25 alone,
  dense alone, hybrid without the glossary and the final pipeline;
* **answered recall**: what a user sees: an item the bot calls "not covered" is a miss.

The decision is fitted on this very set, so its figures are also given cross-validated
(fit on four fifths, decide the fifth, five shuffles): those are the honest ones.
"""
from __future__ import annotations

import hashlib
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


def read_jsonl(path: Path, error: type[Exception]) -> list[tuple[int, object]]:
    """The non-empty lines of a JSON-lines file with their line numbers, parsed; one
    ``error`` line for a file that cannot be read or a line that is not JSON."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise error(f"{path}: kan ikke leses ({e.strerror})") from e
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append((n, json.loads(line)))
        except ValueError as e:
            raise error(f"{path}:{n}: ikke gyldig JSON ({e})") from e
    return out


def load_items(path: Path) -> list[dict]:
    items = []
    for n, item in read_jsonl(path, EvalError):
        if not isinstance(item, dict) or "question" not in item or "gold" not in item:
            raise EvalError(f"{path}:{n}: mangler 'question' eller 'gold'")
        item.setdefault("id", f"line{n}")
        item.setdefault("type", "none" if not item["gold"] else "unknown")
        item.setdefault("difficulty", "")
        items.append(item)
    if not items:
        raise EvalError(f"{path}: ingen spørsmål")
    return items


def items_digest(items: list[dict]) -> str:
    """Identifies an evaluation set by its questions and answers (not its file name), so
    the report can tell whether the shipped decision was fitted on it."""
    key = json.dumps(sorted((it["id"], it["question"], it["gold"]) for it in items), ensure_ascii=False)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _metrics(ranks: list[int | None]) -> dict:
    n = len(ranks) or 1
    out = {f"recall@{k}": sum(1 for r in ranks if r is not None and r < k) / n for k in KS}
    out["mrr@10"] = sum(1 / (r + 1) for r in ranks if r is not None and r < 10) / n
    out["n"] = len(ranks)
    return out


def evaluate(retriever: Retriever, items: list[dict], cross_validate: bool = True, fit: bool = False) -> dict:
    """The report; with ``cross_validate`` or ``fit`` the rows also carry the hidden-answer
    searches a fit learns from (:func:`calibrate.collect`)."""
    from . import calibrate

    answerable = [it for it in items if it["gold"]]
    unanswerable = [it for it in items if not it["gold"]]
    ranks: dict[str, list[int | None]] = {m: [] for m in METHODS}
    t0 = time.perf_counter()
    for it in answerable:
        for m in METHODS:
            if m == "final":
                continue
            passages = [retriever.chunks[i].display for i in retriever.rank(it["question"], m)[:10]]
            ranks[m].append(next((i for i, p in enumerate(passages) if answers(p, it["gold"])), None))
    rows = calibrate.collect(retriever, items, hide_answers=cross_validate or fit)
    by_id = {r.id: r for r in rows}
    ranks["final"] = [by_id[it["id"]].rank for it in answerable]
    shipped = {r.id: calibrate.outcome(retriever.decision, r) for r in rows}
    digest = items_digest(items)
    report = {
        "items": len(items),
        "digest": digest,
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "methods": {m: _metrics(ranks[m]) for m in METHODS},
        "shipped_decision": calibrate.summarise(rows, [shipped]),
        "shipped_decision_fitted_here": retriever.decision.fitted_on == digest,
        "seconds": 0.0,
        "per_item": [
            {"id": r.id, "question": it["question"], "lang": r.lang, "type": r.type, "rank": r.rank, "outcome": shipped[r.id],
             "p": round(retriever.decision.probability(r.signals), 3)}
            for it, r in zip(items, rows)
        ],
    }
    groups: dict[str, list[int | None]] = defaultdict(list)
    for r in rows:
        if r.covered:
            for key in (f"lang:{r.lang}", f"type:{r.type}", f"difficulty:{r.difficulty}") + (("long",) if r.long else ()):
                groups[key].append(r.rank)
    report["ranking_groups"] = {k: _metrics(v) for k, v in sorted(groups.items())}
    report["topics"] = topic_report(retriever, items)
    if cross_validate:
        try:
            report["cross_validated"] = calibrate.summarise(rows, calibrate.cross_validate(rows))
        except RuntimeError as e:  # no scikit-learn in this install
            report["cross_validated_error"] = str(e)
    report["seconds"] = round(time.perf_counter() - t0, 2)
    report["rows"] = rows
    return report


def _overlaps(doc: str, path: tuple[str, ...], gold: list) -> bool:
    """A section answers a gold section when one path holds the other; a whole part
    ("Del 2 …") answers only a gold that is that part."""
    for gdoc, gpath in gold:
        gpath = tuple(gpath)
        if doc != gdoc:
            continue
        if path[: len(gpath)] == gpath or (gpath[: len(path)] == path and (len(path) >= 2 or len(gpath) == len(path))):
            return True
    return False


def topic_report(retriever: Retriever, items: list[dict]) -> dict:
    """Broad and specific questions apart, as a user sees them: a broad question should
    get its section (a topic answer, or passages from it), with high confidence; a
    specific one its passages. Section hit@k: one of the first k sections shown (the
    topic's, then the passages') lies in a gold section."""
    groups: dict[str, dict] = {}

    def add(group: str, key: str, value: float) -> None:
        g = groups.setdefault(group, {"n": 0})
        g[key] = g.get(key, 0.0) + value

    for it in items:
        res = retriever.search(it["question"], k=10)
        broad = it.get("type") == "broad" or it.get("broad")
        group = ("broad" if broad else "specific") + ("_none" if not it["gold"] else "")
        groups.setdefault(group, {"n": 0})["n"] += 1
        if not it["gold"]:
            add(group, "not_covered_or_caveat", float(res.abstained or res.confidence == "low"))
            add(group, "topic_answer", float(res.topic is not None and not res.abstained))
            continue
        shown = [] if res.abstained else ([c.display for c in res.topic.shown[:5]] if res.topic else [h.chunk.display for h in res.hits[:5]])
        add(group, "answered_recall@5", float(any(answers(p, it["gold"]) for p in shown)))
        add(group, "high_confidence", float(not res.abstained and res.confidence == "high"))
        add(group, "topic_answer", float(res.topic is not None and not res.abstained))
        if it.get("gold_sections"):
            sections: list[tuple[str, tuple[str, ...]]] = []
            if not res.abstained:
                if res.topic is not None:
                    sections.append((res.topic.section.doc.id, res.topic.section.path))
                for h in res.hits:
                    key = (h.chunk.doc_id, tuple(h.chunk.section))
                    if key not in sections:
                        sections.append(key)
            for k in (1, 3, 5):
                add(group, f"section_hit@{k}", float(any(_overlaps(d, p, it["gold_sections"]) for d, p in sections[:k])))
    out = {}
    for g, v in groups.items():
        n = v.pop("n")
        out[g] = {"n": n, **{k: round(x / n, 3) for k, x in v.items()}}
    return out


def fit_decision(report: dict, path: Path | None = None) -> Path:
    """Fit the decision on every item of the evaluated set and write ``decision.json``."""
    from . import calibrate
    from .decision import MODEL_PATH

    model = calibrate.fit(report["rows"])
    model.note = f"fitted on {report['items']} items by `policybot eval --fit`"
    model.fitted_on = report["digest"]
    target = Path(path or MODEL_PATH)
    model.save(target)
    return target


def to_json(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "rows"}


def _decision_lines(title: str, s: dict) -> list[str]:
    a = s["answered"]
    lines = [
        title,
        f"  besvart R@1 {a['recall@1']:.3f} · R@5 {a['recall@5']:.3f} · R@10 {a['recall@10']:.3f} · MRR@10 {a['mrr@10']:.3f}",
        f"  spørsmål med svar, feilaktig «ikke dekket»: {s['answerable_wrongly_not_covered']:.1%}",
        f"  spørsmål uten svar, «ikke dekket»: {s['none_not_covered']:.1%}; «ikke dekket» eller forbehold: {s['none_not_covered_or_low']:.1%}",
        f"  svar i topp 5 vist med høy sikkerhet: {s['top5_high_confidence']:.1%}",
        f"  {'gruppe':<22} {'n':>3} {'besvart R@5':>12} {'MRR@10':>7}",
    ]
    for g, v in s["groups"].items():
        lines.append(f"  {g:<22} {v['n']:>3} {v['answered_recall@5']:>12.3f} {v['answered_mrr@10']:>7.3f}")
    return lines


def format_report(report: dict, show_failures: bool = False) -> str:
    lines = [
        f"{report['items']} spørsmål: {report['answerable']} med svar, {report['unanswerable']} uten svar i dokumentene",
        "",
        "Rangering (uten «ikke dekket»-avgjørelsen; hybrid: dense + BM25 på stammer og n-gram, uten glossar; final: hele løsningen):",
        f"{'metode':<8} {'R@1':>6} {'R@3':>6} {'R@5':>6} {'R@10':>6} {'MRR@10':>7}",
    ]
    for m, v in report["methods"].items():
        lines.append(f"{m:<8} {v['recall@1']:>6.3f} {v['recall@3']:>6.3f} {v['recall@5']:>6.3f} {v['recall@10']:>6.3f} {v['mrr@10']:>7.3f}")
    lines += ["", f"{'gruppe (final)':<22} {'n':>3} {'R@1':>6} {'R@5':>6} {'MRR@10':>7}"]
    for g, v in report["ranking_groups"].items():
        lines.append(f"{g:<22} {v['n']:>3} {v['recall@1']:>6.3f} {v['recall@5']:>6.3f} {v['mrr@10']:>7.3f}")
    lines.append("")
    if "cross_validated" in report:
        lines += _decision_lines("Besvart (det brukeren ser), kryssvalidert (5 deler × 5 stokkinger):", report["cross_validated"])
    elif "cross_validated_error" in report:
        lines.append(f"(Ingen kryssvalidering: {report['cross_validated_error']})")
    where = (
        "tilpasset på nettopp dette settet, optimistisk"
        if report["shipped_decision_fitted_here"]
        else "tilpasset på andre spørsmål: disse er usett"
    )
    lines += [""] + _decision_lines(f"Besvart med den medfølgende avgjørelsen ({where}):", report["shipped_decision"])
    if report.get("topics"):
        lines += ["", "Brede og konkrete spørsmål (det brukeren ser; seksjonstreff: en av de første k seksjonene er riktig):"]
        names = {
            "section_hit@1": "seksjon@1", "section_hit@3": "seksjon@3", "section_hit@5": "seksjon@5", "answered_recall@5": "besvart R@5",
            "high_confidence": "høy sikkerhet", "topic_answer": "temasvar", "not_covered_or_caveat": "ikke dekket/forbehold",
        }
        for g, v in report["topics"].items():
            cells = ", ".join(f"{names.get(k, k)} {x:.3f}" for k, x in v.items() if k != "n")
            lines.append(f"  {g:<14} n={v['n']:<4} {cells}")
    lines.append(f"\nTid: {report['seconds']} s")
    if show_failures:
        fails = [r for r in report["per_item"] if r["type"] != "none" and (r["rank"] is None or r["rank"] >= 5 or r["outcome"] == "none")]
        wrong = [r for r in report["per_item"] if r["type"] == "none" and r["outcome"] == "high"]
        if fails:
            lines.append("\nIkke besvart i topp 5:")
            lines += [f"  {r['id']}: {r['question'][:100]} (rang {r['rank']}, {r['outcome']}, p={r['p']})" for r in fails]
        if wrong:
            lines.append("\nUten svar i dokumentene, men besvart med høy sikkerhet:")
            lines += [f"  {r['id']}: {r['question'][:100]} (p={r['p']})" for r in wrong]
    return "\n".join(lines)
