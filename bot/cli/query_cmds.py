"""`policybot search`, `eval` and `feedback`: questions without a chat, and what users
told us."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from .common import ensure_index, fail, guard, retriever_of, settings_of
from .root import app



@app.command("search")
def search_cmd(
    ctx: typer.Context,
    question: Optional[str] = typer.Argument(None, help="Spørsmålet; uten det leses ett spørsmål per linje fra stdin."),
    k: int = typer.Option(5, "-k", min=1, max=50, help="Antall treff."),
    doc: Optional[list[str]] = typer.Option(None, "--doc", help="Bare dette dokumentet (kan gjentas)."),
    commitments: bool = typer.Option(False, "--commitments", help="Bare løfter («… vil:»-punkter)."),
    publisher: Optional[str] = typer.Option(None, "--publisher", help="Bare dokumenter fra denne utgiveren."),
    as_json: bool = typer.Option(False, "--json", help="Skriv JSON (med «abstained» og «confidence»)."),
) -> None:
    """Søk i dokumentene og skriv ut passasjene med kilde."""
    from retrieval.models import Filters

    from ..engine import result_view
    from ..render_text import render

    s = settings_of(ctx)
    ensure_index(s)  # like chat and start: a fresh data directory assembles it in seconds
    retriever = retriever_of(s)
    unknown = [d for d in (doc or []) if d not in retriever.docs]
    if unknown:
        fail(f"ukjent dokument: {', '.join(unknown)} (se `policybot corpus list`)")
    filters = Filters(doc_ids=frozenset(doc or ()), publisher=publisher or "", commitments_only=commitments)
    questions = [question] if question is not None else (line.rstrip("\n") for line in sys.stdin)
    for q in questions:
        if question is None and not q.strip():
            continue
        result = retriever.search(q, k=k, filters=filters)
        if as_json:
            typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            typer.echo(render(result_view(result)) + "\n")


@app.command("eval")
def eval_cmd(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Evalueringsfil (JSONL)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Skriv tallene som JSON hit (og teksten ved siden av, .txt)."),
    show_failures: bool = typer.Option(False, "--failures", help="List spørsmålene som ikke ble besvart i topp 5."),
    no_cv: bool = typer.Option(False, "--no-cv", help="Hopp over kryssvalideringen av avgjørelsen."),
    fit: bool = typer.Option(False, "--fit", help="Tilpass «ikke dekket»-avgjørelsen på hele filen og skriv retrieval/decision.json."),
) -> None:
    """Mål gjenfinning: rangering og besvart recall (R@1/3/5/10, MRR@10), per gruppe, kryssvalidert."""
    from retrieval.evaluate import EvalError, evaluate, fit_decision, format_report, load_items, to_json

    s = settings_of(ctx)
    ensure_index(s)  # like chat and start: a fresh data directory assembles it in seconds
    retriever = retriever_of(s)
    try:
        items = load_items(file)
    except EvalError as e:
        fail(str(e))
    report = evaluate(retriever, items, cross_validate=not no_cv, fit=fit)
    text = format_report(report, show_failures=show_failures)
    typer.echo(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(to_json(report), ensure_ascii=False, indent=1), encoding="utf-8")
        out.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
        typer.echo(f"Skrev {out}")
    if fit:
        typer.echo(f"Skrev avgjørelsen til {fit_decision(report)}")


@app.command("feedback")
def feedback_cmd(ctx: typer.Context, limit: int = typer.Option(10, "--limit", min=1)) -> None:
    """Oppsummering av tilbakemeldinger: mest nedstemte passasjer og spørsmål uten svar."""
    import asyncio

    from ..services import build_store

    s = settings_of(ctx)

    async def summary():
        store = build_store(s)
        await store.open()
        try:
            await store.prune()
            return await store.summary(limit)
        finally:
            await store.close()

    sm = guard(asyncio.run, summary())
    lines = [
        f"Spørsmål: {sm.questions} (uten treff: {sm.unanswered}); eldre enn {s.retention_days} dager er slettet",
        f"Stemmer: {sm.up} 👍, {sm.down} 👎",
    ]
    if sm.most_downvoted:
        lines.append("\nMest nedstemte passasjer (øverste treff):")
        lines += [f"  {_printable(pid)}: {down} 👎, {up} 👍" for pid, down, up in sm.most_downvoted]
    if sm.nothing_found:
        lines.append("\nSpørsmål uten treff (kilde til nye ord i glossary.toml):")
        lines += [f"  {n} × {_printable(q)}" for q, n in sm.nothing_found]
    typer.echo("\n".join(lines))


def _printable(text: str) -> str:
    """Stored user text, safe for a terminal: control and bidi characters become '?'."""
    import unicodedata

    return "".join(ch if ch == " " or unicodedata.category(ch)[0] not in "CZ" else "?" for ch in text)
