"""`policybot check`: the promise check without a chat, and its score on a file of claims
with expected verdicts."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .common import fail, retriever_of, settings_of
from .root import app


@app.command("check")
def check_cmd(
    ctx: typer.Context,
    claim: Optional[str] = typer.Argument(None, help="Påstanden, for eksempel «Ap vil legge ned kontantstøtten»."),
    as_json: bool = typer.Option(False, "--json", help="Skriv JSON: verdict, reason og passasjene."),
    eval_file: Optional[Path] = typer.Option(None, "--eval", help="Mål dommene mot en fil med påstander og forventet dom (JSONL)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Med --eval: skriv rapporten hit også."),
) -> None:
    """Sjekk en påstand mot løftene: match, weaker, contradicts, elsewhere eller absent."""
    from retrieval.claims import check

    from ..views import Citation
    from ..wording import check_verdict

    s = settings_of(ctx)
    retriever = retriever_of(s)
    if eval_file is not None:
        _evaluate(retriever, eval_file, out)
        return
    if not claim or not claim.strip():
        fail('skriv en påstand, for eksempel: policybot check "Ap vil legge ned kontantstøtten"', 2)
    result = check(retriever, claim)
    reason = check_verdict(result.verdict, result.words, result.scope, result.doc.title if result.doc else "", result.programme.title if result.programme else "")
    if as_json:
        typer.echo(json.dumps({"verdict": result.verdict, "reason": reason, **result.to_json()}, ensure_ascii=False))
        return
    lines = [f"{result.verdict}: {reason}"]
    for h in result.passages:
        c = Citation.of(h.doc, h.chunk)
        lines.append(f"«{h.chunk.display}»\n   — " + " · ".join(p for p in (c.title, c.section, c.source) if p))
    typer.echo("\n\n".join(lines))


def _evaluate(retriever, path: Path, out: Path | None) -> None:
    """Accuracy and confusion on every claim, on each split, and cross-validated."""
    from retrieval.claim_eval import ClaimsError, cross_validate, evaluate, format_report, load_claims, summarise

    try:
        items = load_claims(path)
    except ClaimsError as e:
        fail(str(e))
    report = evaluate(retriever, items)
    blocks = [format_report(report, "Alle, med den medfølgende terskelen:")]
    for split in sorted({r["split"] for r in report["rows"] if r["split"]}):
        blocks.append(format_report(summarise([r for r in report["rows"] if r["split"] == split]), f"Delen «{split}»:"))
    cv = cross_validate(retriever, items)
    title = (
        f"Kryssvalidert (terskelen valgt på 4/5, målt på 1/5, {cv['repeats']} stokkinger; tallene summert over "
        f"stokkingene; valgt: {', '.join(cv['chosen'])}):"
    )
    blocks.append(format_report(cv, title, errors=False))
    text = "\n\n".join(blocks)
    typer.echo(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
