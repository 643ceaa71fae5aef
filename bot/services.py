"""The composition root: the one place that turns settings into working parts. The CLI,
the terminal chat, polling and webhook mode all get their retriever, state store and
engine from here."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass, field

from index.embed import BatchingEmbedder, Embedder, make_embedder
from index.store import IndexStoreError, current_build
from retrieval import translate
from retrieval.search import RetrievalConfig, Retriever

from . import builds, metrics
from .builds import Change
from .engine import Engine
from .privacy import load_salt
from .settings import Settings
from .state import StateStore, StoreError, open_store

log = logging.getLogger("policybot.services")


def build_embedder(settings: Settings, batching: bool = False) -> Embedder:
    embedder = make_embedder(settings.embedding_model, settings.query_prefix, settings.passage_prefix)
    return BatchingEmbedder(embedder) if batching else embedder


def build_retriever(settings: Settings, embedder: Embedder | None = None, build: str | None = None) -> Retriever:
    """The published build of this host's index directory, or the build ``build``.
    Raises IndexStoreError, RetrieverError, GlossaryError or EmbedderError (typed; the
    CLI words them)."""
    config = RetrievalConfig(max_query_chars=settings.max_question_chars)
    return Retriever.open(settings.resolved_index_dir, embedder or build_embedder(settings), config=config, build=build)


def build_store(settings: Settings) -> StateStore:
    url = settings.database_url.get_secret_value() if settings.database_url else None
    return open_store(
        url, settings.state_db, answer_ttl=settings.answer_ttl_hours * 3600.0, retention=settings.retention_days * 86400.0,
        timeout=settings.database_timeout,
    )


async def open_store_waiting(store: StateStore, wait: float) -> None:
    """Open the store; while it cannot be reached, say so in one line and try again, for up
    to ``wait`` seconds (a replica started during a database outage comes up after it).
    A schema newer than the code is refused at once."""
    deadline = time.monotonic() + wait
    said = False
    while True:
        try:
            await store.open()
            if said:
                log.info("the state database is reachable again")
            return
        except StoreError as e:
            if not (e.retryable and store.remote):
                raise
            if time.monotonic() >= deadline:
                raise StoreError(f"{e} (ga opp etter {wait:.0f} s)") from e
            if not said:
                log.warning("waiting for the state database (up to %.0f s): %s", wait, e)
                said = True
            await asyncio.sleep(min(2.0, max(0.1, deadline - time.monotonic())))


def with_store(settings: Settings, work):
    """Run ``await work(store)`` against the settings' store (opened, waiting while it is
    down; closed after): for CLI commands that share builds and the corpus."""

    async def run():
        store = build_store(settings)
        await open_store_waiting(store, settings.database_wait)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


SALT_CHECK = "salt_check"  # HMAC of a fixed text under the configured salt: never the salt


def salt_fingerprint(salt: bytes) -> str:
    return hmac.new(salt, b"policybot salt check", hashlib.sha256).hexdigest()[:16]


@dataclass
class Services:
    settings: Settings
    engine: Engine
    store: StateStore
    salt_configured: bool = False
    published: str | None = None  # the build the store says every replica serves (last seen)
    _warned: str = ""  # the last published build this replica could not follow
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one switch at a time

    @property
    def retriever(self) -> Retriever:
        return self.engine.retriever

    @property
    def shared(self) -> bool:
        """Replicas share this store (PostgreSQL), not one process's SQLite file."""
        return self.settings.database_url is not None

    async def open(self) -> None:
        """Open the store (waiting while it is down, applying migrations), agree on the user
        salt, prune old rows, and serve the build the store names (or publish this one
        when it names none)."""
        await open_store_waiting(self.store, self.settings.database_wait)
        if self.shared:
            await self._agree_on_salt()
        await self.prune()
        await self._agree_on_build()

    async def _agree_on_salt(self) -> None:
        """Replicas on one database must hash users alike. The salt itself never goes into
        the database (with it, anyone reading the database could try every Telegram id);
        a fingerprint does, so a replica with another salt refuses to start."""
        if not self.salt_configured:
            raise StoreError(
                "med delt tilstandsdatabase (POLICYBOT_DATABASE_URL) må POLICYBOT_USER_SALT være satt, "
                "til samme hemmelighet på alle instanser"
            )
        mine = salt_fingerprint(self.engine._salt)
        stored = await self.store.init_meta(SALT_CHECK, mine)
        if stored != mine:
            raise StoreError(
                "POLICYBOT_USER_SALT er ikke det samme som de andre instansene bruker (tilstandsdatabasen har et annet "
                "fingeravtrykk): bruk samme salt overalt, ellers gjelder ikke brukernes valg på tvers av instanser"
            )

    async def _agree_on_build(self) -> None:
        index_dir = self.settings.resolved_index_dir
        mine = self.retriever.build
        published = await self.store.init_meta(builds.BUILD_KEY, mine)
        await self.store.init_meta(builds.STAGED_KEY, mine)
        if published != mine:
            try:
                await self._switch(published)
            except (FileNotFoundError, IndexStoreError) as e:
                if await self.store.has_blob(f"build/{published}"):
                    raise
                # named by an older version of the bot, which kept builds on each host only
                log.warning("the store names build %s, which no host has shared (%s): publishing this replica's %s", published, e, mine)
                await self.store.set_meta(builds.BUILD_KEY, mine)
                await self.store.set_meta(builds.STAGED_KEY, mine)
                published = mine
        if published == mine and self.shared:
            try:
                await builds.upload_build(self.store, index_dir, mine)
            except FileNotFoundError as e:  # an index dir given explicitly, read-only: fine
                log.info("not publishing this replica's build to the store: %s", e)
        self.published = published
        metrics.set_build(self.retriever.build, published)

    async def prune(self) -> int:
        deleted = await self.store.prune()
        if deleted:
            log.info("pruned %d old rows (retention %d days)", deleted, self.settings.retention_days)
        return deleted

    async def close(self) -> None:
        await self.store.close()
        self.engine.close()

    async def _switch(self, name: str) -> Change:
        """Serve build ``name`` (fetched from the store if this host lacks it)."""
        old = self.retriever
        await builds.fetch_build(self.store, self.settings.resolved_index_dir, name)
        new = await asyncio.to_thread(build_retriever, self.settings, old.embedder, name)
        self.engine.swap_retriever(new)
        await asyncio.to_thread(_publish_locally, self.settings.resolved_index_dir, name)
        log.info("switched to index build %s (was %s)", name, old.build)
        return builds.compare(old.index.manifest, new.index.manifest, old.build, name)

    async def reload(self) -> Change:
        """/oppdater: make the newest build (the one `index build` published last, on any
        host) the one every replica serves. Says what changed; ``nothing`` when it was
        served already."""
        async with self._lock:
            served = await self.store.get_meta(builds.BUILD_KEY) or self.retriever.build
            candidate = await self.store.get_meta(builds.STAGED_KEY)
            local = current_build(self.settings.resolved_index_dir)
            if local is not None and local.name not in (served, candidate) and not self.shared:
                candidate = local.name  # one host without `index build` publishing: its own index dir
            candidate = candidate or served
            if candidate == served == self.retriever.build:
                return builds.Change(served, served, len(self.retriever.chunks))
            if candidate == self.retriever.build:
                change = builds.Change(served, candidate, len(self.retriever.chunks))
            else:
                change = await self._switch(candidate)
                change.before = served
            if self.shared:
                await builds.upload_build(self.store, self.settings.resolved_index_dir, candidate)
            await self.store.set_meta(builds.BUILD_KEY, candidate)
            self.published = candidate
            metrics.set_build(candidate, candidate)
            return change

    async def follow(self) -> bool:
        """Serve the build the store names, if this replica serves another. True if swapped."""
        wanted = await self.store.get_meta(builds.BUILD_KEY)
        self.published = wanted
        if not wanted or wanted == self.retriever.build:
            metrics.set_build(self.retriever.build, wanted)
            return False
        async with self._lock:
            if wanted == self.retriever.build:
                return False
            try:
                await self._switch(wanted)
            except (FileNotFoundError, IndexStoreError) as e:
                if wanted != self._warned:
                    log.warning("cannot serve the published build %s: %s", wanted, e)
                    self._warned = wanted
                metrics.set_build(self.retriever.build, wanted)
                return False
        metrics.set_build(self.retriever.build, wanted)
        return True

    @property
    def serves_published(self) -> bool:
        return self.published is None or self.published == self.retriever.build


def _publish_locally(index_dir, name: str) -> None:
    """This host's cache follows: its CURRENT names the served build, and only it and the
    one before are kept."""
    from index.store import _prune, _publish

    cur = current_build(index_dir)
    if cur is None or cur.name != name:
        _publish(index_dir, name)
        _prune(index_dir, keep=name)


def build_services(settings: Settings, retriever: Retriever | None = None, batching: bool = True) -> Services:
    """Everything a conversation front end needs (not yet opened: ``await services.open()``)."""
    retriever = retriever or build_retriever(settings, build_embedder(settings, batching=batching))
    if retriever.config.use_apertium:
        translate.warm()
    store = build_store(settings)
    configured = settings.user_salt.get_secret_value() if settings.user_salt else None
    salt = load_salt(settings.data_dir, configured)
    engine = Engine(
        retriever, store, salt,
        per_page=settings.results_per_page,
        rate_limit_per_minute=settings.rate_limit_per_minute,
        search_threads=settings.search_threads,
    )
    return Services(settings, engine, store, salt_configured=configured is not None)
