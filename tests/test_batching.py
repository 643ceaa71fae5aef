"""Micro-batched query embedding: concurrent questions share model calls and each gets
exactly its own vectors."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from index.embed import BatchingEmbedder


def test_concurrent_questions_share_model_calls_and_get_their_own_vectors(embedder):
    batching = BatchingEmbedder(embedder, max_batch=16, max_wait=0.01)
    questions = [f"Hva vil Ap gjøre med skatt nummer {i}?" for i in range(24)]
    with ThreadPoolExecutor(max_workers=24) as pool:
        got = list(pool.map(lambda q: batching.queries([q, q + " (politikk)"]), questions))
    assert batching.calls < len(questions)  # shared calls
    direct = embedder.queries([questions[5], questions[5] + " (politikk)"])
    assert np.allclose(got[5], direct, atol=1e-4)
    assert all(g.shape == (2, embedder.dim) for g in got)


def test_an_error_reaches_every_waiting_caller():
    class Broken:
        name, dim = "broken", 4

        def queries(self, texts):
            raise RuntimeError("model crashed")

    batching = BatchingEmbedder(Broken())
    try:
        batching.query("x")
    except RuntimeError as e:
        assert "model crashed" in str(e)
    else:  # pragma: no cover
        raise AssertionError("no error")
