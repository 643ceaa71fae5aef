"""`policybot corpus …`: the documents in the corpus."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import corpus_of, fail, pull_corpus, push_corpus, settings_of
from .root import corpus_app



@corpus_app.command("list")
def corpus_list(ctx: typer.Context) -> None:
    """List dokumentene i korpuset."""
    for d in corpus_of(settings_of(ctx)).documents:
        typer.echo(f"{d.id}: {d.citation()} [{d.kind}]")


@corpus_app.command("outline")
def corpus_outline(
    ctx: typer.Context,
    doc: Optional[str] = typer.Argument(None, help="Dokumentets id (standard: alle)."),
    as_json: bool = typer.Option(False, "--json", help="Én JSON-linje per seksjon."),
) -> None:
    """Vis dokumentets seksjonstre med antall passasjer og løfter per seksjon (rett det i documents.toml)."""
    import json

    from index.manifest import CorpusError
    from index.outline import outline

    corpus = corpus_of(settings_of(ctx))
    docs = [d for d in corpus.documents if doc in (None, d.id)]
    if doc and not docs:
        fail(f"ukjent dokument '{doc}' (se `policybot corpus list`)")
    for d in docs:
        try:
            sections = outline(d, corpus.read_text(d))
        except CorpusError as e:
            fail(str(e))
        if as_json:
            for sec in sections:
                typer.echo(json.dumps({"doc": d.id, **sec.to_json()}, ensure_ascii=False))
            continue
        typer.echo(f"{d.id}: {d.citation()}")
        for sec in sections:
            indent = "  " * max(len(sec.path) - 1, 0)
            counts = f"{sec.passages} passasjer" + (f", {sec.promises} løfter" if sec.promises else "")
            typer.echo(f"  {sec.line:>5}  {indent}{sec.title or '(før første overskrift)'}  [{counts}]")


@corpus_app.command("add")
def corpus_add(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Dokumentet: .txt, .md eller .pdf"),
    title: str = typer.Option(..., "--title", help="Dokumentets tittel."),
    publisher: str = typer.Option(..., "--publisher", help="Utgiver."),
    kind: str = typer.Option("dokument", "--kind", help="Type: partiprogram, uttalelse, veileder …"),
    year: str = typer.Option("", "--year", help="Årstall."),
    doc_id: Optional[str] = typer.Option(None, "--id", help="Stabil id (standard: laget av tittelen)."),
    url: str = typer.Option("", "--url", help="Lenke til originalen (http eller https)."),
) -> None:
    """Legg et dokument til korpuset. Kjør `policybot index build` etterpå.

    Det innebygde korpuset endres aldri: første gang kopieres det til DATA_DIR/corpus, og
    dokumentet legges der (med mindre POLICYBOT_CORPUS_DIR peker på en egen mappe)."""
    import shutil

    from corpus import BUILTIN_DIR
    from index.ingest import IngestError, add_document

    s = settings_of(ctx)
    pull_corpus(s)
    target = s.resolved_corpus_dir
    copied = False
    if target.resolve() == BUILTIN_DIR.resolve():
        target = s.local_corpus_dir
        if not (target / "documents.toml").is_file():
            try:
                shutil.copytree(BUILTIN_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.py", "*.pyc"), dirs_exist_ok=True)
            except OSError as e:
                fail(f"kan ikke kopiere korpuset til {target}: {e.strerror or e}")
            copied = True
    try:
        doc = add_document(target, file, title=title, publisher=publisher, kind=kind, year=year, doc_id=doc_id, url=url)
    except IngestError as e:
        fail(str(e))
    if copied:
        typer.echo(f"Kopierte det innebygde korpuset til {target}; det brukes heretter.")
    push_corpus(s, target)
    typer.echo(f"La til '{doc.id}' ({doc.citation()}) i {target}. Kjør `policybot index build` for å indeksere det.")
