"""Corpus and builds shared through the store (bot.builds): what one host publishes
another fetches intact, a damaged blob is refused, and the corpus is taken from the store
only when this host did not change its own (a conflict is refused in one line)."""
from __future__ import annotations

import shutil

import pytest

from bot import builds
from bot.state import open_store
from corpus import BUILTIN_DIR
from index.store import current_build


@pytest.fixture
async def store(tmp_path):
    s = open_store(None, tmp_path / "state.sqlite", answer_ttl=3600, retention=86400)
    await s.open()
    yield s
    await s.close()


def _corpus(path):
    shutil.copytree(BUILTIN_DIR, path, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return path


async def test_a_build_travels_intact_and_a_damaged_one_is_refused(store, built_index, tmp_path):
    name = current_build(built_index[0]).name
    assert await builds.upload_build(store, built_index[0], name) is True
    assert await builds.upload_build(store, built_index[0], name) is False  # once
    await store.set_meta(builds.BUILD_KEY, name)
    other = tmp_path / "host-b" / "index"
    assert await builds.adopt_published(store, other) == name
    assert current_build(other).name == name
    assert (other / "builds" / name / "chunks.jsonl").read_bytes() == (built_index[0] / "builds" / name / "chunks.jsonl").read_bytes()

    data = bytearray(await store.get_blob(f"build/{name}"))
    data[len(data) // 2] ^= 0xFF
    await store._change("DELETE FROM blobs WHERE name = ?", (f"build/{name}",))
    await store.put_blob(f"build/{name}", bytes(data))
    from index.store import IndexStoreError

    with pytest.raises(IndexStoreError):
        await builds.fetch_build(store, tmp_path / "host-c" / "index", name)
    assert not (tmp_path / "host-c" / "index" / "builds" / name).exists()


async def test_the_shared_corpus_reaches_a_host_that_did_not_change_its_own(store, tmp_path):
    a = _corpus(tmp_path / "a" / "corpus")
    (a / "ny.txt").write_text("Et nytt dokument.\n", encoding="utf-8")
    with open(a / "documents.toml", "a", encoding="utf-8") as f:
        f.write('\n[[document]]\nid = "ny"\nfile = "ny.txt"\ntitle = "Nytt"\n')
    shared = await builds.push_corpus(store, a, tmp_path / "a")

    # host B still has the built-in corpus: it takes the shared one
    target = tmp_path / "b" / "corpus"
    result = await builds.pull_corpus(store, BUILTIN_DIR, target, tmp_path / "b", builtin=True)
    assert result.pulled and (target / "ny.txt").read_text(encoding="utf-8") == "Et nytt dokument.\n"
    assert builds.corpus_name(builds.pack_corpus(target)) == shared

    # host C changed its own corpus since it last agreed with the store: refused, nothing overwritten
    c = _corpus(tmp_path / "c" / "corpus")
    builds._write_marker(tmp_path / "c", "corpus/something-older")
    (c / "oslo-ap-trygghet-for-alle.txt").write_text("lokal endring\n", encoding="utf-8")
    with pytest.raises(builds.CorpusConflict, match="endret her, og et annet korpus er delt"):
        await builds.pull_corpus(store, c, c, tmp_path / "c", builtin=False)
    assert (c / "oslo-ap-trygghet-for-alle.txt").read_text(encoding="utf-8") == "lokal endring\n"
