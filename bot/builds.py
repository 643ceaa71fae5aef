"""One corpus and one index for every host, kept in the state store.

The store holds, as content-named blobs, every corpus `policybot corpus add` or
`index build` produced and every build it made (a few MB each), and three names:

* ``build``: the build every replica serves. Set by the first replica that starts on an
  empty store, and by `/oppdater`.
* ``staged``: the newest build `policybot index build` published on any host. `/oppdater`
  makes it the served one; building alone never switches a running replica.
* ``corpus``: the newest corpus. `corpus add` and `index build` on a host first take it
  when another host changed it, so a document added on host A is in host B's next build.

Each host keeps what it fetched in its own index directory (``builds/<name>``), so a
restart does not download again.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from index.archive import pack_build, pack_corpus, unpack_build, unpack_corpus
from index.store import _damaged, _publish, _read_manifest, current_build

from .state import StateStore

log = logging.getLogger("policybot.builds")

BUILD_KEY, STAGED_KEY, CORPUS_KEY = "build", "staged", "corpus"
SYNC_MARKER = "corpus.synced"  # in DATA_DIR: the shared corpus this host last took or gave


class CorpusConflict(Exception):
    """The corpus changed here and on another host since they last agreed."""


def _blob(name: str) -> str:
    return f"build/{name}"


def local_build(index_dir: Path, name: str) -> Path | None:
    """This host's copy of a build, if it is complete and intact."""
    path = Path(index_dir) / "builds" / name
    manifest = _read_manifest(path) if path.is_dir() else None
    return path if manifest is not None and not _damaged(path, manifest) else None


async def upload_build(store: StateStore, index_dir: Path, name: str) -> bool:
    """Put a local build into the store (once: the name says what is in it)."""
    if await store.has_blob(_blob(name)):
        return False
    path = local_build(index_dir, name)
    if path is None:
        raise FileNotFoundError(f"bygg {name} finnes ikke (helt) i {index_dir}")
    data = await asyncio.to_thread(pack_build, path)
    stored = await store.put_blob(_blob(name), data)
    if stored:
        log.info("published index build %s to the store (%.1f MB)", name, len(data) / 1e6)
    return stored


async def fetch_build(store: StateStore, index_dir: Path, name: str) -> Path:
    """This host's copy of ``name``, downloaded from the store when it has none."""
    path = await asyncio.to_thread(local_build, index_dir, name)
    if path is not None:
        return path
    data = await store.get_blob(_blob(name))
    if data is None:
        raise FileNotFoundError(f"bygg {name} finnes ikke i tilstandsdatabasen")
    path = await asyncio.to_thread(unpack_build, data, index_dir, name)
    log.info("fetched index build %s from the store (%.1f MB)", name, len(data) / 1e6)
    return path


async def adopt_published(store: StateStore, index_dir: Path) -> str | None:
    """Before the index is loaded at start: make the served build this host's published
    one (fetching it if needed). Returns its name, or None when the store has none yet."""
    name = await store.get_meta(BUILD_KEY)
    if name is None:
        return None
    try:
        await fetch_build(store, index_dir, name)
    except FileNotFoundError:  # named by an older version: the replica publishes its own at open
        return None
    current = current_build(index_dir)
    if current is None or current.name != name:
        await asyncio.to_thread(_publish, Path(index_dir), name)
    return name


# --- the corpus -------------------------------------------------------------------------------


def corpus_name(data: bytes) -> str:
    return "corpus/" + hashlib.sha256(data).hexdigest()[:24]


@dataclass
class CorpusSync:
    pulled: bool = False
    pushed: bool = False
    notes: list[str] = field(default_factory=list)


async def pull_corpus(store: StateStore, corpus_dir: Path, target: Path, data_dir: Path, *, builtin: bool) -> CorpusSync:
    """Take the shared corpus when another host changed it and this one did not. Raises
    CorpusConflict when both did. ``target`` is where a pulled corpus goes (the configured
    corpus folder, or DATA_DIR/corpus); ``builtin`` says the host still has the built-in
    corpus, which never counts as a local change."""
    result = CorpusSync()
    shared = await store.get_meta(CORPUS_KEY)
    if shared is None:
        return result
    local = corpus_name(await asyncio.to_thread(pack_corpus, corpus_dir))
    if local == shared:
        _write_marker(data_dir, shared)
        return result
    marker = _read_marker(data_dir)
    if not builtin and marker != local:
        raise CorpusConflict(
            f"korpuset i {corpus_dir} er endret her, og et annet korpus er delt fra en annen vert siden sist: "
            "legg endringene inn på nytt etter å ha flyttet mappen bort, så hentes det delte korpuset"
        )
    data = await store.get_blob(shared)
    if data is None:
        raise FileNotFoundError(f"det delte korpuset {shared} mangler i tilstandsdatabasen")
    await asyncio.to_thread(unpack_corpus, data, target)
    _write_marker(data_dir, shared)
    result.pulled = True
    result.notes.append(f"hentet korpuset fra tilstandsdatabasen til {target} (endret på en annen vert)")
    return result


async def push_corpus(store: StateStore, corpus_dir: Path, data_dir: Path) -> str:
    data = await asyncio.to_thread(pack_corpus, corpus_dir)
    name = corpus_name(data)
    await store.put_blob(name, data)
    await store.set_meta(CORPUS_KEY, name)
    _write_marker(data_dir, name)
    return name


def _read_marker(data_dir: Path) -> str | None:
    try:
        return (Path(data_dir) / SYNC_MARKER).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _write_marker(data_dir: Path, name: str) -> None:
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    (Path(data_dir) / SYNC_MARKER).write_text(name + "\n", encoding="utf-8")


# --- what /oppdater says -----------------------------------------------------------------------


@dataclass
class Change:
    """What a switch from one build to another changes, in the documents' titles."""

    before: str
    after: str
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def nothing(self) -> bool:
        return self.before == self.after


def compare(old: dict, new: dict, before: str, after: str) -> Change:
    o, n = old.get("documents", {}), new.get("documents", {})
    title = lambda docs, d: docs[d].get("title") or d  # noqa: E731
    return Change(
        before, after, int(new.get("chunk_count", 0)),
        added=[title(n, d) for d in n if d not in o],
        changed=[title(n, d) for d in n if d in o and o[d].get("hash") != n[d].get("hash")],
        removed=[title(o, d) for d in o if d not in n],
    )
