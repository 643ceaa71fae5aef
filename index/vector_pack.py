"""Shipped embeddings: a compact file of passage vectors that travels with a corpus, so a
fresh install assembles its index in seconds instead of embedding for minutes.

A pack is one ``.npz`` file (``embeddings.npz`` beside ``documents.toml``) with:

``keys``     N × 32 bytes: sha256 of (model name, embedded text), the embedding cache's key
``vectors``  N × dim float16, L2-normalised (half the size of float32; cosine error < 1e-3)
``meta``     JSON: format, model name, dim, count and the sha256 of ``keys`` + ``vectors``

Because every vector is keyed by the model name and the exact text it embeds, a changed
document only misses the vectors of its changed passages, and a pack made with another
model matches nothing. A pack that is corrupt, truncated, or made for another model is
ignored with a reason (the build then embeds what it must) and never served.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PACK_NAME = "embeddings.npz"
PACK_FORMAT = 1


@dataclass
class VectorPack:
    model: str
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # hex key → float32 vector
    problem: str = ""  # why the pack could not be used ("" when it could, or there was none)

    def __len__(self) -> int:
        return len(self.vectors)


def _digest(keys: np.ndarray, vectors: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(keys).tobytes())
    h.update(np.ascontiguousarray(vectors).tobytes())
    return h.hexdigest()


def write_pack(path: Path, model: str, items: dict[str, np.ndarray]) -> int:
    """Write ``items`` (hex key → vector) as a pack for ``model``; returns the count.
    Written beside the target and renamed, so a reader never sees half a file."""
    order = sorted(items)
    keys = np.array([bytes.fromhex(k) for k in order], dtype="S32").view(np.uint8).reshape(len(order), 32)
    vecs = np.stack([np.asarray(items[k], dtype=np.float32) for k in order]).astype(np.float16) if order else np.zeros((0, 0), np.float16)
    meta = {"format": PACK_FORMAT, "model": model, "dim": int(vecs.shape[1]) if order else 0, "count": len(order), "sha256": _digest(keys, vecs)}
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez_compressed(f, keys=keys, vectors=vecs, meta=np.array(json.dumps(meta)))
    tmp.replace(path)
    return len(order)


def read_pack(path: Path, model: str, dim: int | None = None) -> VectorPack:
    """The vectors of the pack at ``path`` for ``model``. Never raises for a bad file: the
    returned pack is empty and ``problem`` says why."""
    path = Path(path)
    if not path.is_file():
        return VectorPack(model)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            keys = z["keys"]
            vecs = z["vectors"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as e:
        return VectorPack(model, problem=f"{path.name} kan ikke leses ({type(e).__name__}); embedder alt på nytt")
    if meta.get("format") != PACK_FORMAT:
        return VectorPack(model, problem=f"{path.name} har ukjent format {meta.get('format')!r}")
    if meta.get("model") != model:
        return VectorPack(model, problem=f"{path.name} er laget med modellen {meta.get('model')!r}, ikke {model!r}")
    if keys.ndim != 2 or keys.shape[1] != 32 or vecs.ndim != 2 or len(keys) != len(vecs) != meta.get("count"):
        return VectorPack(model, problem=f"{path.name} er ufullstendig")
    if dim is not None and vecs.shape[1] != dim:
        return VectorPack(model, problem=f"{path.name} har dimensjon {vecs.shape[1]}, modellen {dim}")
    if _digest(keys, vecs) != meta.get("sha256"):
        return VectorPack(model, problem=f"{path.name} er skadet (sjekksummen stemmer ikke)")
    mat = vecs.astype(np.float32)
    if not np.isfinite(mat).all():
        return VectorPack(model, problem=f"{path.name} inneholder ugyldige tall")
    mat /= np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-12)
    hexkeys = [bytes(row).hex() for row in keys]
    return VectorPack(model, dict(zip(hexkeys, mat)))
