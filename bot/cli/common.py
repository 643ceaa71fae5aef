"""What the CLI's commands share: one-line failures, the settings the root callback read,
and the services built from them (the composition root is :mod:`bot.services`), with the
lower layers' typed errors worded as one line."""
from __future__ import annotations

import sys

import typer

from index.manifest import CorpusError

from ..settings import Settings


def fail(message: str, code: int = 1) -> None:
    typer.secho(f"Feil: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def settings_of(ctx: typer.Context) -> Settings:
    return ctx.obj


# --- services built from settings (the composition root is bot.services) ---------------------


def corpus_of(s: Settings):
    from index.manifest import load_corpus

    try:
        return load_corpus(s.resolved_corpus_dir)
    except CorpusError as e:
        fail(str(e))


def embedder_of(s: Settings):
    from index.embed import EmbedderError

    from ..services import build_embedder

    try:
        return build_embedder(s)
    except EmbedderError as e:
        fail(str(e))


def guard(fn, *args):
    """Call a builder; word the typed errors of the lower layers as one line."""
    from index.embed import EmbedderError
    from index.store import IndexMissing, IndexStoreError
    from retrieval.query import GlossaryError
    from retrieval.search import ModelMismatch, RetrieverError

    from ..privacy import SaltError
    from ..state import StoreError

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


def retriever_of(s: Settings):
    from ..services import build_retriever

    return guard(build_retriever, s)


def services_of(s: Settings):
    from ..services import build_services

    return guard(build_services, s)


def shared(s: Settings, work):
    """``await work(store)`` against the shared store (PostgreSQL), or None without one."""
    if s.database_url is None:
        return None
    from ..builds import CorpusConflict
    from ..services import with_store
    from ..state import StoreError

    try:
        return with_store(s, work)
    except (StoreError, CorpusConflict, FileNotFoundError) as e:
        fail(str(e))


def pull_corpus(s: Settings) -> None:
    """Take the corpus another host shared, before changing or building this one's."""
    from corpus import BUILTIN_DIR

    from ..builds import pull_corpus as pull

    source = s.resolved_corpus_dir
    target = s.corpus_dir or s.local_corpus_dir
    builtin = source.resolve() == BUILTIN_DIR.resolve()
    result = shared(s, lambda store: pull(store, source, target, s.data_dir, builtin=builtin))
    for note in result.notes if result else []:
        typer.echo(f"Merk: {note}", err=True)


def push_corpus(s: Settings, target) -> None:
    from ..builds import push_corpus as push

    if s.database_url is not None:
        shared(s, lambda store: push(store, target, s.data_dir))
        typer.echo("Korpuset er delt med de andre vertene gjennom tilstandsdatabasen.")


def publish(s: Settings, name: str) -> None:
    """Share this host's corpus and build through the store; /oppdater then serves it."""
    from ..builds import STAGED_KEY, push_corpus, upload_build

    async def work(store):
        await push_corpus(store, s.resolved_corpus_dir, s.data_dir)
        await upload_build(store, s.resolved_index_dir, name)
        before = await store.get_meta(STAGED_KEY)
        await store.set_meta(STAGED_KEY, name)
        return before

    if s.database_url is not None and shared(s, work) != name:
        typer.echo(f"Publisert i tilstandsdatabasen: bygg {name}. Send /oppdater i Telegram, så bytter alle instanser til det.")


def adopt_published(s: Settings) -> None:
    """With a shared store: serve what the other replicas serve (fetched before loading)."""
    from ..builds import adopt_published as adopt

    shared(s, lambda store: adopt(store, s.resolved_index_dir))


def ensure_index(s: Settings) -> None:
    """Build the index first when there is none (the run command's first start), or when
    the published one was built by an older version of the bot (after an upgrade). Vectors
    come from the cache and the shipped pack, so this takes seconds."""
    from index.store import FORMAT_VERSION, current_build, published_format

    if current_build(s.resolved_index_dir) is None:
        typer.echo("Fant ingen indeks: bygger den først …", err=True)
        build(s, force=False, report_to_stderr=True)
    elif (version := published_format(s.resolved_index_dir)) != FORMAT_VERSION:
        if version is None:
            typer.echo("Indeksens manifest kan ikke leses: bygger indeksen på nytt …", err=True)
        else:
            typer.echo("Indeksen er bygd av en eldre versjon av boten: bygger den på nytt …", err=True)
        build(s, force=False, report_to_stderr=True)


def build(s: Settings, force: bool, report_to_stderr: bool = False) -> None:
    """Build the index and print the report (on stderr when another command's output,
    such as `search --json`, owns stdout)."""
    import signal

    from tqdm import tqdm

    from index.store import IndexStoreError, build_index

    pull_corpus(s)
    corpus = corpus_of(s)
    embedder = embedder_of(s)
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
        typer.echo(f"Indeksen er allerede oppdatert ({report.chunks} passasjer, bygg {report.build}). Ingenting å gjøre.", err=report_to_stderr)
        publish(s, report.build)
        return
    if report.reason:
        typer.echo(report.reason, err=report_to_stderr)
    typer.echo(
        f"Ferdig på {report.seconds:.1f} s: bygg {report.build}\n"
        f"  dokumenter: {len(report.added)} nye, {len(report.changed)} endret, {len(report.removed)} fjernet, "
        f"{len(report.unchanged)} uendret\n"
        f"  passasjer: {report.chunks} i alt; embeddinger: {report.embedded} nye, {report.reused} gjenbrukt "
        f"({report.shipped} fra de medfølgende vektorene; to per passasje: med og uten overskrift)",
        err=report_to_stderr,
    )
    for label, ids in (("nye", report.added), ("endret", report.changed), ("fjernet", report.removed)):
        if ids and len(ids) < len(corpus.documents) + len(report.removed):
            typer.echo(f"  {label}: {', '.join(ids)}", err=report_to_stderr)
    publish(s, report.build)
