"""Builds and corpora as single archives, so they can travel between hosts through the
state store. Deterministic (sorted names, no times or owners): the same folder always
gives the same bytes. Unpacking writes beside the target and renames, and refuses any
member that would land outside it."""
from __future__ import annotations

import gzip
import io
import shutil
import tarfile
import uuid
from pathlib import Path

from .manifest import MANIFEST_NAME, load_corpus
from .store import BUILD_EXTRAS, IndexCorrupt, _damaged, _read_manifest
from .vector_pack import PACK_NAME


def _pack(root: Path, files: list[Path]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
            info = tarfile.TarInfo(path.relative_to(root).as_posix())
            info.size = path.stat().st_size
            info.mode = 0o644
            with open(path, "rb") as f:
                tar.addfile(info, f)
    return gzip.compress(buf.getvalue(), compresslevel=6, mtime=0)


def _unpack(data: bytes, target: Path) -> None:
    """Into ``target`` (which must not exist yet), atomically."""
    target = Path(target)
    tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex[:6]}.partial")
    tmp.mkdir(parents=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            tar.extractall(tmp, filter="data")  # refuses absolute paths, '..', links out
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def pack_build(build: Path) -> bytes:
    return _pack(build, [p for p in Path(build).rglob("*") if p.is_file()])


def unpack_build(data: bytes, index_dir: Path, name: str) -> Path:
    """Write a build fetched from elsewhere into ``index_dir/builds/name`` after checking
    it against its own manifest. Does not publish it."""
    target = Path(index_dir) / "builds" / name
    (Path(index_dir) / "builds").mkdir(parents=True, exist_ok=True)
    try:
        _unpack(data, target)
    except (tarfile.TarError, OSError, EOFError) as e:
        raise IndexCorrupt(f"bygg {name} fra tilstandsdatabasen kan ikke pakkes ut: {e}") from e
    manifest = _read_manifest(target)
    if manifest is None or _damaged(target, manifest):
        shutil.rmtree(target, ignore_errors=True)
        raise IndexCorrupt(f"bygg {name} fra tilstandsdatabasen stemmer ikke med sitt eget manifest")
    return target


def corpus_files(root: Path) -> list[Path]:
    """What a corpus is: its manifest, the documents it lists, the extras and the shipped
    vectors (so another host builds in seconds, not minutes)."""
    root = Path(root)
    corpus = load_corpus(root)
    files = [root / MANIFEST_NAME] + [corpus.path(d) for d in corpus.documents]
    files += [root / n for n in (*BUILD_EXTRAS, PACK_NAME) if (root / n).is_file()]
    return files


def pack_corpus(root: Path) -> bytes:
    return _pack(Path(root), corpus_files(root))


def unpack_corpus(data: bytes, root: Path) -> None:
    """Replace the corpus folder ``root`` with the archive's corpus."""
    _unpack(data, Path(root))
