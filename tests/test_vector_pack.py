"""The shipped vectors (corpus/embeddings.npz): they equal what the model computes today,
they are keyed by model and text, and a damaged or foreign pack is never served."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from corpus import BUILTIN_DIR
from index.chunk import chunk_document
from index.manifest import load_corpus
from index.store import EmbeddingCache, build_index, load_index
from index.vector_pack import PACK_NAME, read_pack, write_pack


@pytest.fixture(scope="module")
def pack(embedder):
    p = read_pack(BUILTIN_DIR / PACK_NAME, embedder.name, embedder.dim)
    assert p.problem == "" and len(p) > 3000
    return p


def test_a_fresh_embedding_equals_the_shipped_one(pack, corpus, embedder):
    """`index build --force` would reproduce the shipped vectors: checked on a sample of
    passages from every document, both views."""
    sample = []
    for d in corpus.documents:
        chunks = chunk_document(d.id, corpus.read_text(d), d.structure)
        sample += [chunks[0].embed_text, chunks[len(chunks) // 2].text]
    fresh = embedder.passages(sample)
    for text, vec in zip(sample, fresh):
        shipped = pack.vectors[EmbeddingCache.key(embedder.name, text)]
        assert np.allclose(shipped, vec, atol=2e-3), text[:60]
        assert float(shipped @ vec) > 0.9999


def _corpus_copy(tmp_path):
    dst = tmp_path / "corpus"
    shutil.copytree(BUILTIN_DIR, dst, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return dst


class CountingEmbedder:
    """The real embedder; counts the passages it is asked to embed and stops early."""

    def __init__(self, inner, limit: int):
        self.inner, self.limit, self.calls = inner, limit, 0
        self.name, self.dim = inner.name, inner.dim

    def passages(self, texts):
        self.calls += len(texts)
        if self.calls > self.limit:
            raise RuntimeError("embedded more than expected")
        return self.inner.passages(texts)

    def query(self, text):
        return self.inner.query(text)


def test_a_changed_document_reembeds_only_its_changed_passages(tmp_path, embedder):
    root = _corpus_copy(tmp_path)
    path = root / "oslo-ap-trygghet-for-alle.txt"
    old = "• øke bemanningen i barnehager i levekårsutsatte områder"
    path.write_text(path.read_text(encoding="utf-8").replace(old, old + " og skoler"), encoding="utf-8")
    counting = CountingEmbedder(embedder, limit=2)
    report = build_index(load_corpus(root), tmp_path / "index", counting)
    assert report.embedded == 2 and report.shipped == report.reused  # one passage, two views
    assert any(c.text.endswith("levekårsutsatte områder og skoler") for c in load_index(tmp_path / "index").chunks)


@pytest.mark.parametrize("damage", ["flip", "truncate", "other-model"])
def test_a_damaged_or_foreign_pack_is_detected_and_not_served(tmp_path, embedder, damage):
    root = tmp_path / "tiny"
    root.mkdir()
    (root / "documents.toml").write_text(
        '[[document]]\nid = "plan"\nfile = "plan.txt"\ntitle = "Plan"\npublisher = "Testpartiet"\n', encoding="utf-8"
    )
    (root / "plan.txt").write_text(
        "1. Skole\n\nTestpartiet vil:\n\n• gi alle elever gratis skolemat\n• ansette flere lærere i små kommuner\n",
        encoding="utf-8",
    )
    corpus = load_corpus(root)
    chunks = [c for d in corpus.documents for c in chunk_document(d.id, corpus.read_text(d), d.structure)]
    texts = [c.embed_text for c in chunks] + [c.text for c in chunks]
    real = embedder.passages(texts)
    # a pack whose vectors are deliberately wrong (reversed): served, they would be visible
    wrong = {EmbeddingCache.key(embedder.name, t): -v for t, v in zip(texts, real)}
    model = "some-other-model" if damage == "other-model" else embedder.name
    write_pack(root / PACK_NAME, model, {k.replace(embedder.name, model): v for k, v in wrong.items()})
    if damage == "flip":
        data = bytearray((root / PACK_NAME).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (root / PACK_NAME).write_bytes(bytes(data))
    elif damage == "truncate":
        data = (root / PACK_NAME).read_bytes()
        (root / PACK_NAME).write_bytes(data[: len(data) // 2])
    report = build_index(corpus, tmp_path / "index", embedder)
    assert report.shipped == 0 and report.embedded == len(texts)
    assert report.notes and PACK_NAME in report.notes[0]
    idx = load_index(tmp_path / "index")
    got = idx.text_vectors.reconstruct_n(0, len(chunks))
    assert np.allclose(got, real[len(chunks):], atol=1e-5)


def test_an_intact_pack_is_used(tmp_path, embedder):
    items = {EmbeddingCache.key(embedder.name, "en tekst"): embedder.passages(["en tekst"])[0]}
    write_pack(tmp_path / PACK_NAME, embedder.name, items)
    p = read_pack(tmp_path / PACK_NAME, embedder.name, embedder.dim)
    assert p.problem == "" and len(p) == 1
    assert read_pack(tmp_path / PACK_NAME, embedder.name, 999).problem  # wrong dimension
