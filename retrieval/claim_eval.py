"""Score the promise check on a file of claims with expected verdicts
(tests/data/claims.jsonl): accuracy, the confusion between verdicts, and how often a claim
that is not a ``match`` is called one (the error that misleads a volunteer most)."""
from __future__ import annotations

from pathlib import Path

from .claims import VERDICTS, check
from .evaluate import read_jsonl


class ClaimsError(Exception):
    pass


def load_claims(path: Path) -> list[dict]:
    items = []
    for n, item in read_jsonl(path, ClaimsError):
        if not isinstance(item, dict) or "claim" not in item or item.get("verdict") not in VERDICTS:
            raise ClaimsError(f"{path}:{n}: trenger 'claim' og 'verdict' ({', '.join(VERDICTS)})")
        item.setdefault("id", f"line{n}")
        items.append(item)
    if not items:
        raise ClaimsError(f"{path}: ingen påstander")
    return items


def evaluate(retriever, items: list[dict], **kw) -> dict:
    rows = []
    for it in items:
        got = check(retriever, it["claim"], **kw)
        rows.append({"id": it["id"], "claim": it["claim"], "expected": it["verdict"], "got": got.verdict, "split": it.get("split", "")})
    return summarise(rows)


def summarise(rows: list[dict]) -> dict:
    confusion = {e: {g: 0 for g in VERDICTS} for e in VERDICTS}
    for r in rows:
        confusion[r["expected"]][r["got"]] += 1
    non_match = [r for r in rows if r["expected"] in ("weaker", "elsewhere", "absent")]
    return {
        "n": len(rows),
        "accuracy": sum(r["expected"] == r["got"] for r in rows) / max(1, len(rows)),
        "non_match_called_match": sum(r["got"] == "match" for r in non_match) / max(1, len(non_match)),
        "confusion": confusion,
        "rows": rows,
    }


def format_report(report: dict, title: str = "", errors: bool = True) -> str:
    lines = [title] if title else []
    lines.append(
        f"{report['n']} påstander: {report['accuracy']:.1%} riktig dom; "
        f"weaker/elsewhere/absent kalt match: {report['non_match_called_match']:.1%}"
    )
    lines.append(f"  {'forventet → fikk':<18}" + "".join(f"{g:>12}" for g in VERDICTS))
    for e in VERDICTS:
        lines.append(f"  {e:<18}" + "".join(f"{report['confusion'][e][g]:>12}" for g in VERDICTS))
    wrong = [r for r in report["rows"] if r["expected"] != r["got"]] if errors else []
    if wrong:
        lines.append("  Feil:")
        lines += [f"    {r['id']}: {r['claim'][:80]} (forventet {r['expected']}, fikk {r['got']})" for r in wrong]
    return "\n".join(lines)


GRID = (0.5, 0.6, 2 / 3, 0.75, 0.8, 1.0)  # values of claims.COVER the cross-validation chooses from


def cross_validate(retriever, items: list[dict], folds: int = 5, repeats: int = 5, seed: int = 7) -> dict:
    """The one fitted number of the check, ``claims.COVER``, chosen on k−1 folds (best
    accuracy; on a tie, fewer non-match claims called match, then the shipped value) and
    scored on the fold left out; stratified by verdict, several shuffles. Every claim is
    checked once per grid value."""
    import random

    from .claims import COVER

    got = {c: {it["id"]: check(retriever, it["claim"], cover_min=c).verdict for it in items} for c in GRID}
    rows = []
    for rep in range(repeats):
        rnd = random.Random(seed + rep)
        assign: dict[str, int] = {}
        for v in VERDICTS:
            ids = [it["id"] for it in items if it["verdict"] == v]
            rnd.shuffle(ids)
            assign.update({i: n % folds for n, i in enumerate(ids)})
        for f in range(folds):
            train = [it for it in items if assign[it["id"]] != f]

            def score(c: float) -> tuple:
                s = summarise([{"expected": it["verdict"], "got": got[c][it["id"]]} for it in train])
                return (s["accuracy"], -s["non_match_called_match"], -abs(c - COVER))

            best = max(GRID, key=score)
            rows += [
                {"id": it["id"], "claim": it["claim"], "expected": it["verdict"], "got": got[best][it["id"]], "split": f"cover={best:.2f}"}
                for it in items
                if assign[it["id"]] == f
            ]
    report = summarise(rows)
    report["chosen"] = sorted({r["split"] for r in rows})
    report["repeats"] = repeats
    return report
