"""Build, publish, load, compare and verify the search index.

Layout of an index directory::

    CURRENT                 name of the published build (replaced atomically)
    builds/<name>/          one complete build:
        manifest.json       format, model, chunker version, per-document hashes, counts
        chunks.jsonl        chunk metadata and text, in vector order
        vectors.faiss       FAISS inner-product index over L2-normalised vectors
        bm25/               bm25s index over the same chunks (word stems)
        ngrams/             bm25s index over the same chunks (character n-grams)
    embed-cache.sqlite      vectors keyed by (model, embedded text): never embed twice

Vectors come from, in order: the embedding cache, the corpus's shipped pack
(``embeddings.npz`` beside ``documents.toml``, see :mod:`index.vector_pack`), and only
then the model. ``force`` ignores both and embeds every passage afresh.

Every file of a build is recorded with its sha256 in the manifest, and loading checks
them: a flipped byte in a vector file is refused, never served.

A build is named by its content: a hash of the corpus (every document's text and metadata,
the glossary and hedge lists it carries), the model and the format. The same corpus gives
the same name on every host, so replicas can tell at a glance whether they serve the same
index. The glossary and hedge lists are copied into the build, which is therefore complete
by itself (it can be shipped to another host through the state store).

A build is written into ``builds/<name>.partial``, renamed when complete, and only then
published by replacing ``CURRENT``. A build that crashes or is interrupted leaves the
previous build in place and usable; what it had embedded stays in the cache.

One build at a time: a build holds an exclusive lock on ``build.lock`` (``flock``) from
reading the published manifest to pruning, so a second build (an operator's while a bot
starts, two replicas on one volume) waits and then finds nothing left to do. A build
prunes only finished builds and its own ``.partial``; a manifest that lacks one of the
files every build has counts as damaged, and the next build replaces it.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import bm25s
import faiss
import numpy as np

# bm25s sets its own logger to DEBUG when imported; its index-building chatter is not ours.
logging.getLogger("bm25s").setLevel(logging.WARNING)
log = logging.getLogger("policybot.index")

from .chunk import CHUNKER_VERSION, Chunk, chunk_document
from .embed import Embedder
from .manifest import Corpus, CorpusError, Document
from .parse import clean
from .tokenize import grams, tokens
from .vector_pack import PACK_NAME, read_pack

FORMAT_VERSION = 4  # 4: the character n-gram index
EMBED_BATCH = 16
KEEP_BUILDS = 2  # the published build and the one before it
# Files every build has: a manifest that does not list them describes a broken build.
REQUIRED_FILES = ("chunks.jsonl", "vectors.faiss", "text_vectors.faiss")
REQUIRED_DIRS = ("bm25", "ngrams")
LOCK_NAME = "build.lock"
CACHE_BUSY_SECONDS = 30.0  # how long a build waits for an embedding cache another process holds
_BUILD_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$")


class IndexStoreError(Exception):
    """An index that is missing, corrupt or does not fit the request."""


class IndexMissing(IndexStoreError):
    pass


class IndexCorrupt(IndexStoreError):
    pass


BUILD_EXTRAS = ("glossary.toml", "hedges.toml")  # corpus files a build carries with it


def build_name(hashes: dict[str, str], corpus_root: Path, model: str) -> str:
    """The content name of a build: the same documents, extras, model, chunker and format
    give the same name on every host."""
    h = hashlib.sha256()
    h.update(json.dumps({"format": FORMAT_VERSION, "chunker": CHUNKER_VERSION, "model": model, "documents": sorted(hashes.items())}).encode())
    for extra in BUILD_EXTRAS:
        path = Path(corpus_root) / extra
        h.update(b"\0" + extra.encode() + b"\0" + (path.read_bytes() if path.is_file() else b""))
    return f"f{FORMAT_VERSION}-{h.hexdigest()[:24]}"


def doc_hash(doc: Document, text: str) -> str:
    # the structure hints re-chunk a document, so they are part of its hash (when it has any)
    structure = doc.structure.to_toml()
    meta = json.dumps([doc.id, doc.title, doc.publisher, doc.kind, doc.year, list(doc.inferred), doc.url] + ([structure] if structure else []), sort_keys=True)
    return hashlib.sha256(meta.encode() + b"\0" + text.encode()).hexdigest()


@dataclass
class BuildReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    embedded: int = 0
    reused: int = 0
    shipped: int = 0  # of the reused: taken from the corpus's shipped vectors
    notes: list[str] = field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0
    noop: bool = False
    build: str = ""
    reason: str = ""


@dataclass
class StatusReport:
    exists: bool
    up_to_date: bool
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manifest: dict | None = None


@dataclass
class LoadedIndex:
    manifest: dict
    chunks: list[Chunk]
    vectors: faiss.Index  # chunk with its section path and lead-in
    text_vectors: faiss.Index  # the chunk's text alone
    bm25: bm25s.BM25  # word stems
    ngrams: bm25s.BM25  # character n-grams of the same words
    path: Path

    @property
    def model(self) -> str:
        return self.manifest["model"]["name"]


# --- the embedding cache -----------------------------------------------------------


class EmbeddingCache:
    """SQLite table of vectors keyed by sha256(model, text)."""

    def __init__(self, path: Path) -> None:
        self.note = ""
        self.path = path
        try:
            self._db = self._open(path)
        except sqlite3.OperationalError as e:
            # Locked, busy, read-only or out of space: the file is fine, so keep it.
            raise IndexStoreError(_cache_problem(path, e)) from None
        except sqlite3.DatabaseError:
            # A cache is only a cache: set the damaged file aside and start a new one.
            aside = path.with_name(path.name + ".corrupt")
            path.replace(aside)
            self.note = f"hurtigbufferen {path.name} var skadet; flyttet til {aside.name} og startet på nytt"
            self._db = self._open(path)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=CACHE_BUSY_SECONDS)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, dim INTEGER, data BLOB)")
            db.execute("SELECT count(*) FROM vec").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    @staticmethod
    def key(model: str, text: str) -> str:
        return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            q = f"SELECT key, data FROM vec WHERE key IN ({','.join('?' * len(part))})"
            for k, data in self._db.execute(q, part):
                out[k] = np.frombuffer(data, dtype=np.float32)
        return out

    def put_many(self, items: list[tuple[str, np.ndarray]]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vec (key, dim, data) VALUES (?, ?, ?)",
                [(k, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes()) for k, v in items],
            )

    def close(self) -> None:
        self._db.close()


def _cache_problem(path: Path, e: sqlite3.Error) -> str:
    msg = str(e).lower()
    if "locked" in msg or "busy" in msg:
        return f"hurtigbufferen {path} er låst av en annen prosess; prøv igjen når den er ferdig (filen er uendret)"
    if "full" in msg or "i/o" in msg:
        return f"kan ikke skrive hurtigbufferen {path} ({e}): er disken full? Forrige indeks er uendret"
    return f"hurtigbufferen {path} kan ikke brukes ({e}); filen er uendret"


# --- building ----------------------------------------------------------------------


def current_build(index_dir: Path) -> Path | None:
    """The published build, or None when there is none or ``CURRENT`` is unreadable or
    names no finished build (a build then publishes a new one over it)."""
    pointer = Path(index_dir) / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not _BUILD_NAME.match(name):
        return None
    path = Path(index_dir) / "builds" / name
    return path if path.is_dir() else None


def published_format(index_dir: Path) -> int | None:
    """The format version of the published build (None when there is none or it cannot be
    read): a build of an older format is rebuilt, never served."""
    manifest = _read_manifest(current_build(Path(index_dir)))
    return manifest.get("format_version") if manifest else None


def _read_manifest(build: Path | None) -> dict | None:
    """The build's manifest, or None when it is missing, unreadable or not of the shape
    every build writes (then the build counts as damaged)."""
    if build is None:
        return None
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if _manifest_shape_ok(manifest) else None


def _manifest_shape_ok(m: object) -> bool:
    """The field types the loader and the build rely on (a hand-edited or truncated
    manifest must be refused, not crash every command)."""
    def is_int(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if not isinstance(m, dict) or not is_int(m.get("format_version")) or not is_int(m.get("chunk_count")):
        return False
    model, docs, files = m.get("model"), m.get("documents"), m.get("files")
    if not (isinstance(model, dict) and isinstance(model.get("name"), str) and is_int(model.get("dim"))):
        return False
    if not isinstance(docs, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) and isinstance(v.get("hash"), str) and is_int(v.get("chunks")) for k, v in docs.items()
    ):
        return False
    return isinstance(files, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())


def _diff(old: dict | None, hashes: dict[str, str]) -> tuple[list[str], list[str], list[str], list[str]]:
    before = {k: v["hash"] for k, v in (old or {}).get("documents", {}).items()}
    added = [d for d in hashes if d not in before]
    removed = [d for d in before if d not in hashes]
    changed = [d for d in hashes if d in before and before[d] != hashes[d]]
    unchanged = [d for d in hashes if d in before and before[d] == hashes[d]]
    return added, changed, removed, unchanged


def build_index(
    corpus: Corpus,
    index_dir: Path,
    embedder: Embedder,
    *,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    pack_path: Path | None = None,
) -> BuildReport:
    """Build the index for ``corpus`` into ``index_dir`` and publish it atomically.

    ``force`` rebuilds even when nothing changed, and embeds every passage afresh (no
    cache, no shipped vectors). ``pack_path`` overrides where the shipped vectors are
    looked for (default: ``embeddings.npz`` in the corpus folder).

    ``on_total(n)`` is called with the number of chunks that need embedding, ``progress(k)``
    after each batch of ``k``: the CLI hangs a progress bar on them.
    """
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    try:
        (index_dir / "builds").mkdir(parents=True, exist_ok=True)
        with build_lock(index_dir):
            return _build_locked(corpus, index_dir, embedder, force, progress, on_total, pack_path, t0)
    except OSError as e:
        raise IndexStoreError(_write_problem(index_dir, e)) from None
    except sqlite3.OperationalError as e:
        raise IndexStoreError(_cache_problem(index_dir / "embed-cache.sqlite", e)) from None


def _write_problem(index_dir: Path, e: OSError) -> str:
    if e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return f"disken er full: kan ikke skrive indeksen i {index_dir} (forrige indeks er uendret)"
    return f"kan ikke skrive indeksen i {index_dir}: {e.strerror or e} (forrige indeks er uendret)"


@contextmanager
def build_lock(index_dir: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the index directory's exclusive build lock; wait (in short slices, so Ctrl-C
    still works) while another process holds it. The kernel drops the lock when its
    holder dies, so a crashed build never blocks the next one."""
    with open(Path(index_dir) / LOCK_NAME, "a+b") as f:
        waited = False
        while True:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waited:
                    log.info("another build holds %s: waiting for it", Path(index_dir) / LOCK_NAME)
                    if on_wait:
                        on_wait()
                    waited = True
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _build_locked(corpus, index_dir, embedder, force, progress, on_total, pack_path, t0) -> BuildReport:
    texts = {d.id: corpus.read_text(d) for d in corpus.documents}
    hashes = {d.id: doc_hash(d, texts[d.id]) for d in corpus.documents}
    published = current_build(index_dir)
    old = _read_manifest(published)
    report_note = ""
    if published is not None and old is None:
        report_note = "den publiserte indeksen var skadet (manifestet kan ikke leses): bygges på nytt"
    elif old is not None and old.get("format_version") == FORMAT_VERSION:
        try:
            load_index(index_dir)  # every digest, every count: what search would refuse
        except IndexStoreError as e:
            report_note = f"den publiserte indeksen var skadet: bygges på nytt ({e})"
            old = None
    added, changed, removed, unchanged = _diff(old, hashes)
    report = BuildReport(added=added, changed=changed, removed=removed, unchanged=unchanged)
    if report_note:
        report.notes.append(report_note)

    same_setup = (
        old is not None
        and old.get("format_version") == FORMAT_VERSION
        and old.get("chunker_version") == CHUNKER_VERSION
        and old.get("model", {}).get("name") == embedder.name
    )
    name = build_name(hashes, corpus.root, embedder.name)
    published = current_build(index_dir)
    if same_setup and not (added or changed or removed) and not force and published is not None and published.name == name:
        report.noop = True
        report.chunks = int(old["chunk_count"])
        report.build = name
        report.seconds = time.perf_counter() - t0
        return report
    existing = index_dir / "builds" / name
    m = _read_manifest(existing) if existing.is_dir() else None
    reusable = (
        not force
        and isinstance(m, dict)
        and m.get("format_version") == FORMAT_VERSION
        and m.get("chunker_version") == CHUNKER_VERSION
        and isinstance(m.get("model"), dict)
        and m["model"].get("name") == embedder.name
        and _loads(index_dir, name)  # every digest and count, as search would check them
    )
    if reusable:
        # built before (or fetched from the store): publish it again, nothing to compute
        _publish(index_dir, name)
        _prune(index_dir, keep=name)
        report.chunks, report.build = int(m["chunk_count"]), name  # type: ignore[index]
        report.seconds = time.perf_counter() - t0
        return report
    if old is not None and not same_setup:
        report.reason = "modell, chunker eller format er endret: alt bygges på nytt"

    chunks: list[Chunk] = []
    for d in corpus.documents:
        chunks.extend(chunk_document(d.id, texts[d.id], d.structure))
    if not chunks:
        raise IndexStoreError("korpuset har ingen tekst å indeksere")

    # Embeddings: reuse the cache and the shipped vectors, embed the rest in batches
    # (committed as they come, so an interrupted build keeps what it did).
    cache = EmbeddingCache(index_dir / "embed-cache.sqlite")
    if cache.note:
        report.notes.append(cache.note)
    try:
        # Two views of every chunk: with its section path and lead-in (embed_text), and
        # the quoted text alone. Search scores a chunk by both (see retrieval.search).
        view_texts = [c.embed_text for c in chunks] + [c.text for c in chunks]
        keys = [EmbeddingCache.key(embedder.name, t) for t in view_texts]
        have: dict[str, np.ndarray] = {} if force else cache.get_many(list(set(keys)))
        if not force and any(k not in have for k in keys):
            pack = read_pack(Path(pack_path) if pack_path else corpus.root / PACK_NAME, embedder.name, embedder.dim)
            if pack.problem:
                report.notes.append(pack.problem)
            shipped = [(k, pack.vectors[k]) for k in set(keys) if k not in have and k in pack.vectors]
            if shipped:
                cache.put_many(shipped)
                have.update(shipped)
                report.shipped = sum(1 for k in keys if k in pack.vectors)
        todo_keys: list[str] = []
        todo_texts: list[str] = []
        pending: set[str] = set()
        for k, t in zip(keys, view_texts):
            if k not in have and k not in pending:
                pending.add(k)
                todo_keys.append(k)
                todo_texts.append(t)
        report.embedded = len(todo_texts)
        report.reused = len(keys) - report.embedded
        if on_total:
            on_total(len(todo_texts))
        for i in range(0, len(todo_texts), EMBED_BATCH):
            vecs = _interruptible(embedder.passages, todo_texts[i : i + EMBED_BATCH])
            batch = list(zip(todo_keys[i : i + EMBED_BATCH], vecs))
            cache.put_many(batch)
            have.update(batch)
            if progress:
                progress(len(batch))
        matrix = np.stack([have[k] for k in keys]).astype(np.float32)
    finally:
        cache.close()
    if matrix.shape[1] != embedder.dim:
        raise IndexStoreError(f"vektorene har dimensjon {matrix.shape[1]}, modellen {embedder.dim}")

    partial = index_dir / "builds" / f"{name}.{uuid.uuid4().hex[:6]}.partial"
    partial.mkdir()
    try:
        n = len(chunks)
        try:
            _write_build(partial, chunks, matrix[:n], matrix[n:])
        except RuntimeError as e:  # faiss reports a failed write (a full disk) this way
            log.debug("faiss: %s", _first_line(e))
            raise IndexStoreError(f"kan ikke skrive vektorene i {index_dir} (skrivefeil): er disken full? Forrige indeks er uendret") from None
        for extra in BUILD_EXTRAS:
            if (corpus.root / extra).is_file():
                shutil.copyfile(corpus.root / extra, partial / extra)
        manifest = {
            "format_version": FORMAT_VERSION,
            "chunker_version": CHUNKER_VERSION,
            "model": {"name": embedder.name, "dim": embedder.dim},
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "chunk_count": len(chunks),
            "documents": {
                d.id: {
                    "hash": hashes[d.id],
                    "file": d.file,
                    "title": d.title,
                    "publisher": d.publisher,
                    "kind": d.kind,
                    "year": d.year,
                    "inferred": list(d.inferred),
                    "url": d.url,
                    "chunks": sum(1 for c in chunks if c.doc_id == d.id),
                }
                for d in corpus.documents
            },
            "corpus_dir": str(corpus.root),
            "files": _file_digests(partial),
        }
        missing = _missing_required(manifest["files"])
        if missing:  # never publish a build without its files, whatever removed them
            raise IndexStoreError(f"bygget mangler {', '.join(missing)}; forrige indeks er uendret")
        (partial / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        final = index_dir / "builds" / name
        if final.exists():  # --force, or a damaged copy: set the old one aside first
            aside = final.with_name(f"{name}.{uuid.uuid4().hex[:6]}.partial")
            final.rename(aside)
            shutil.rmtree(aside, ignore_errors=True)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _publish(index_dir, name)
    _prune(index_dir, keep=name)

    report.chunks = len(chunks)
    report.build = name
    report.seconds = time.perf_counter() - t0
    return report


def _loads(index_dir: Path, name: str) -> bool:
    try:
        load_index(index_dir, name)
        return True
    except IndexStoreError:
        return False


def _write_build(path: Path, chunks: list[Chunk], matrix: np.ndarray, text_matrix: np.ndarray) -> None:
    with open(path / "chunks.jsonl", "w", encoding="utf-8") as f:
        for c in chunks:
            f.write(json.dumps(c.to_json(), ensure_ascii=False) + "\n")
    # Exact inner product search: at a few thousand chunks a flat scan takes well under a
    # millisecond. Past ~1M chunks switch to faiss.IndexHNSWFlat (or IVF-PQ to save memory).
    for name, m in (("vectors.faiss", matrix), ("text_vectors.faiss", text_matrix)):
        flat = faiss.IndexFlatIP(m.shape[1])
        flat.add(m)
        faiss.write_index(flat, str(path / name))
    for name, analyse in (("bm25", tokens), ("ngrams", grams)):
        lexical = bm25s.BM25()
        lexical.index([analyse(c.embed_text) or ["_"] for c in chunks], show_progress=False)
        lexical.save(str(path / name), show_progress=False)


def _interruptible(fn: Callable, *args):
    """Run ``fn`` in a worker thread and wait for it in short slices, so Ctrl-C or SIGTERM
    (raised as KeyboardInterrupt in the main thread) stops a build at once instead of
    after the model's current batch, which can take many seconds on a busy machine."""
    out: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            out["value"] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            out["error"] = e
        finally:
            done.set()

    threading.Thread(target=run, daemon=True, name="embed-batch").start()
    while not done.wait(0.1):
        pass
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out["value"]


def _file_digests(build: Path) -> dict[str, str]:
    """sha256 of every file of a build (except the manifest), by relative path."""
    out = {}
    for p in sorted(build.rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            out[p.relative_to(build).as_posix()] = h.hexdigest()
    return out


def _missing_required(recorded: dict) -> list[str]:
    """Files every build has that ``recorded`` (a manifest's digests) does not list."""
    missing = [f for f in REQUIRED_FILES if f not in recorded]
    missing += [f"{d}/" for d in REQUIRED_DIRS if not any(k.startswith(d + "/") for k in recorded)]
    return missing


def _damaged(build: Path, manifest: dict) -> list[str]:
    """Files of ``build`` that are missing or differ from the digests in its manifest,
    and files every build has that the manifest does not list."""
    recorded = manifest.get("files")
    if not isinstance(recorded, dict) or not recorded:
        return ["manifest.json (ingen sjekksummer)"]
    actual = _file_digests(build)
    bad = sorted(name for name, digest in recorded.items() if actual.get(name) != digest)
    return bad + [f"{f} (mangler i manifestet)" for f in _missing_required(recorded)]


def _first_line(e: BaseException) -> str:
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return lines[-1][:200] if lines else type(e).__name__


def _publish(index_dir: Path, name: str) -> None:
    tmp = index_dir / f"CURRENT.{uuid.uuid4().hex[:6]}.tmp"
    tmp.write_text(name + "\n", encoding="utf-8")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / "CURRENT")


def _prune(index_dir: Path, keep: str) -> None:
    """Delete finished builds beyond the newest KEEP_BUILDS (never ``keep``), oldest first
    (names say what is in a build, not when: the directory's time does). A ``.partial``
    directory is never touched here: it may be a build being written (a process on another
    host, where the lock may not reach); a build removes its own when it fails, and an
    interrupted one's stays until an operator deletes it."""
    builds = sorted((p for p in (index_dir / "builds").iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    finished = [p for p in builds if not p.name.endswith(".partial")]
    stale = [p for p in finished if p.name != keep][: max(0, len(finished) - KEEP_BUILDS)]
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)


# --- loading -----------------------------------------------------------------------



def load_index(index_dir: Path, name: str | None = None) -> LoadedIndex:
    """Load the published build (or the build ``name``), read-only, after checking every
    file against the manifest's digests. Raises IndexMissing or IndexCorrupt."""
    index_dir = Path(index_dir)
    build = current_build(index_dir) if name is None else index_dir / "builds" / name
    if build is None or not build.is_dir():
        raise IndexMissing(f"Fant ingen indeks i {index_dir}." if name is None else f"Fant ikke bygg {name} i {index_dir}.")
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
            raise IndexCorrupt(f"Indeksen i {build} har et annet format ({manifest.get('format_version')}).")
        if not _manifest_shape_ok(manifest):
            raise IndexCorrupt(f"Indeksen i {build} er skadet: manifest.json har feil felttyper.")
        damaged = _damaged(build, manifest)
        if damaged:
            raise IndexCorrupt(f"Indeksen i {build} er skadet: {', '.join(damaged[:3])} stemmer ikke med manifestet.")
        with open(build / "chunks.jsonl", encoding="utf-8") as f:
            chunks = [Chunk.from_json(json.loads(line)) for line in f if line.strip()]
        vectors = faiss.read_index(str(build / "vectors.faiss"))
        text_vectors = faiss.read_index(str(build / "text_vectors.faiss"))
        bm25 = bm25s.BM25.load(str(build / "bm25"), show_progress=False)
        ngrams = bm25s.BM25.load(str(build / "ngrams"), show_progress=False)
    except IndexStoreError:
        raise
    except Exception as e:  # noqa: BLE001 - any unreadable file means a corrupt index
        raise IndexCorrupt(f"Indeksen i {build} er skadet ({type(e).__name__}: {e}).") from e
    n_lex = [int(b.scores["num_docs"]) if "num_docs" in b.scores else len(chunks) for b in (bm25, ngrams)]
    per_doc = sum(meta["chunks"] for meta in manifest["documents"].values())
    if not (len(chunks) == vectors.ntotal == text_vectors.ntotal == manifest["chunk_count"] == per_doc == n_lex[0] == n_lex[1]):
        raise IndexCorrupt(
            f"Indeksen i {build} er ufullstendig: {len(chunks)} passasjer "
            f"(manifestet sier {manifest['chunk_count']}), "
            f"{vectors.ntotal}/{text_vectors.ntotal} vektorer, "
            f"{n_lex[0]}/{n_lex[1]} BM25-dokumenter."
        )
    return LoadedIndex(manifest=manifest, chunks=chunks, vectors=vectors, text_vectors=text_vectors, bm25=bm25, ngrams=ngrams, path=build)


# --- status and verification -------------------------------------------------------


def index_status(corpus: Corpus, index_dir: Path, model_name: str | None = None) -> StatusReport:
    hashes = {d.id: doc_hash(d, corpus.read_text(d)) for d in corpus.documents}  # CorpusError first
    build = current_build(Path(index_dir))
    if build is None:
        return StatusReport(exists=False, up_to_date=False, notes=[f"Fant ingen indeks i {index_dir}."])
    manifest = _read_manifest(build)
    damaged = "den publiserte indeksen er skadet: `policybot index build` bygger den på nytt"
    if manifest is None:
        return StatusReport(True, False, notes=[f"{damaged} (manifestet kan ikke leses)"], manifest={})
    if manifest.get("format_version") == FORMAT_VERSION:
        try:
            load_index(index_dir)  # the same checks search makes
        except IndexStoreError as e:
            return StatusReport(True, False, notes=[f"{damaged} ({e})"], manifest=manifest)
    added, changed, removed, _ = _diff(manifest, hashes)
    notes = []
    if manifest.get("chunker_version") != CHUNKER_VERSION:
        notes.append(f"chunkeren er endret ({manifest.get('chunker_version')} → {CHUNKER_VERSION})")
    if model_name and manifest.get("model", {}).get("name") != model_name:
        notes.append(f"modellen er endret ({manifest['model']['name']} → {model_name})")
    up = not (added or changed or removed or notes)
    return StatusReport(True, up, added, changed, removed, notes, manifest)


def verify_index(index_dir: Path, corpus: Corpus | None = None) -> list[str]:
    """Integrity problems of the published index; an empty list means it is sound."""
    try:
        idx = load_index(index_dir)
    except IndexStoreError as e:
        return [str(e)]
    problems: list[str] = []
    n = len(idx.chunks)
    for label, store in (("vectors.faiss", idx.vectors), ("text_vectors.faiss", idx.text_vectors)):
        if store.ntotal != n:
            problems.append(f"{label}: {store.ntotal} vektorer, men {n} passasjer")
            continue
        if store.d != idx.manifest["model"]["dim"]:
            problems.append(f"{label}: dimensjon {store.d}, manifestet sier {idx.manifest['model']['dim']}")
            continue
        mat = store.reconstruct_n(0, n) if n else np.zeros((0, store.d), np.float32)
        if not np.isfinite(mat).all():
            problems.append(f"{label}: noen vektorer er ikke endelige tall (NaN/inf)")
            continue
        bad = int(np.sum(np.abs(np.linalg.norm(mat, axis=1) - 1.0) > 1e-3))
        if bad:
            problems.append(f"{label}: {bad} vektorer er ikke normalisert")
    per_doc: dict[str, int] = {}
    for c in idx.chunks:
        per_doc[c.doc_id] = per_doc.get(c.doc_id, 0) + 1
    for doc_id, meta in idx.manifest["documents"].items():
        if per_doc.get(doc_id, 0) != meta["chunks"]:
            problems.append(f"{doc_id}: manifestet sier {meta['chunks']} passasjer, fant {per_doc.get(doc_id, 0)}")
    if corpus is not None:
        known = {d.id: d for d in corpus.documents}
        for doc_id, meta in idx.manifest["documents"].items():
            d = known.get(doc_id)
            if d is None:
                problems.append(f"{doc_id}: finnes i indeksen, men ikke i korpuset")
                continue
            try:
                text = corpus.read_text(d)
            except CorpusError as e:
                problems.append(str(e))
                continue
            if doc_hash(d, text) != meta["hash"]:
                problems.append(f"{doc_id}: dokumentet er endret siden indeksen ble bygd")
                continue
            for c in (c for c in idx.chunks if c.doc_id == doc_id):
                if clean(text[c.start : c.end]) != c.text:
                    problems.append(f"{c.id}: teksten stemmer ikke med kildeteksten ({c.start}–{c.end})")
                    break
    return problems


# --- shipping the vectors ----------------------------------------------------------


def export_pack(index_dir: Path, path: Path) -> int:
    """Write the published index's vectors (both views of every passage) as a shipped
    pack (:mod:`index.vector_pack`); returns how many vectors it holds."""
    from .vector_pack import write_pack

    idx = load_index(index_dir)
    n = len(idx.chunks)
    ctx = idx.vectors.reconstruct_n(0, n)
    txt = idx.text_vectors.reconstruct_n(0, n)
    items: dict[str, np.ndarray] = {}
    for i, c in enumerate(idx.chunks):
        items[EmbeddingCache.key(idx.model, c.embed_text)] = ctx[i]
        items[EmbeddingCache.key(idx.model, c.text)] = txt[i]
    return write_pack(path, idx.model, items)
