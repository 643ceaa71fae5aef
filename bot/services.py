"""The composition root: the one place that turns settings into working parts. The CLI,
the terminal chat, polling and webhook mode all get their retriever, state store and
engine from here."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from index.embed import BatchingEmbedder, Embedder, make_embedder
from index.store import current_build
from retrieval import translate
from retrieval.search import RetrievalConfig, Retriever

from .engine import Engine
from .privacy import load_salt
from .settings import Settings
from .state import StateStore, open_store

log = logging.getLogger("policybot.services")


def build_embedder(settings: Settings, batching: bool = False) -> Embedder:
    embedder = make_embedder(settings.embedding_model, settings.query_prefix, settings.passage_prefix)
    return BatchingEmbedder(embedder) if batching else embedder


def build_retriever(settings: Settings, embedder: Embedder | None = None) -> Retriever:
    """Raises IndexStoreError, RetrieverError, GlossaryError or EmbedderError (typed; the
    CLI words them)."""
    config = RetrievalConfig(max_query_chars=settings.max_question_chars)
    return Retriever.open(settings.resolved_index_dir, embedder or build_embedder(settings), config=config)


def build_store(settings: Settings) -> StateStore:
    url = settings.database_url.get_secret_value() if settings.database_url else None
    return open_store(url, settings.state_db, answer_ttl=settings.answer_ttl_hours * 3600.0, retention=settings.retention_days * 86400.0)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    store: StateStore
    _warned: str = ""  # the last published build this replica could not follow
    @property
    def retriever(self) -> Retriever:
        return self.engine.retriever

    async def open(self) -> None:
        """Open the store (applying migrations), prune old rows, and record the build this
        process serves when the store has none yet."""
        await self.store.open()
        deleted = await self.store.prune()
        if deleted:
            log.info("pruned %d old rows (retention %d days)", deleted, self.settings.retention_days)
        if await self.store.get_build() is None:
            await self.store.set_build(self.retriever.build)

    async def close(self) -> None:
        await self.store.close()
        self.engine.close()

    async def reload(self) -> tuple[str, str]:
        """Load the published index, serve it, and tell every replica (the store records
        the build). Returns (old build, new build)."""
        old = self.retriever
        new = await asyncio.to_thread(build_retriever, self.settings, old.embedder)
        self.engine.swap_retriever(new)
        await self.store.set_build(new.build)
        return old.build, new.build

    async def follow(self) -> bool:
        """Pick up a build another replica published with /oppdater. True if swapped."""
        wanted = await self.store.get_build()
        if not wanted or wanted == self.retriever.build:
            return False
        # Reading the CURRENT pointer is cheap; loading an index is not. Load only when this
        # replica's index directory publishes something other than what it serves.
        published = current_build(self.settings.resolved_index_dir)
        if published is None or published.name == self.retriever.build:
            if wanted != self._warned:
                log.warning("the store names build %s, but this replica's index dir publishes %s", wanted, published.name if published else "nothing")
                self._warned = wanted
            return False
        new = await asyncio.to_thread(build_retriever, self.settings, self.retriever.embedder)
        self.engine.swap_retriever(new)
        log.info("switched to index build %s", new.build)
        return True


def build_services(settings: Settings, retriever: Retriever | None = None, batching: bool = True) -> Services:
    """Everything a conversation front end needs (not yet opened: ``await services.open()``)."""
    retriever = retriever or build_retriever(settings, build_embedder(settings, batching=batching))
    if retriever.config.use_apertium:
        translate.warm()
    store = build_store(settings)
    salt = load_salt(settings.data_dir, settings.user_salt.get_secret_value() if settings.user_salt else None)
    engine = Engine(
        retriever, store, salt,
        per_page=settings.results_per_page,
        rate_limit_per_minute=settings.rate_limit_per_minute,
        search_threads=settings.search_threads,
    )
    return Services(settings, engine, store)
