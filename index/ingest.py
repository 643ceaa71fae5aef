"""Add a document to the corpus: extract its text (.txt, .md, .pdf), write it beside the
manifest under a stable id, and record it in the manifest. Nothing changes on error.

Input is not trusted: a symbolic link or anything but a regular file is refused (no
``/etc/passwd`` copied into the corpus by a link), a PDF is read in a child process with
bounded time and memory (:mod:`index.pdf_text`), text with NUL or other control
characters is refused as binary, and titles and publishers have a length limit."""
from __future__ import annotations

import os
import re
import stat
import unicodedata
from pathlib import Path

from .manifest import ID_RE, Corpus, CorpusError, Document, load_corpus, save_corpus

SUFFIXES = (".txt", ".md", ".pdf")
MIN_CHARS = 200
MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_TITLE = 200
MAX_PUBLISHER = 120
MAX_KIND = 40
# Control characters a text file may hold (tab, newline, carriage return, form feed).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


class IngestError(Exception):
    pass


def slugify(title: str) -> str:
    s = title.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    s = re.sub(r"[\u2010-\u2015\u2212]", "-", s)  # en and em dashes, minus: a word break, not nothing
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    return s[:60].rstrip("-") or "dokument"


def extract_text(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise IngestError(f"{path.name}: ukjent filtype '{suffix}' (bruk {', '.join(SUFFIXES)})")
    if suffix == ".pdf":
        from .pdf_text import PdfError, extract_pdf

        try:
            text = extract_pdf(path)
        except PdfError as e:
            raise IngestError(f"{path.name}: {e}") from None
        # a PDF's text layer may hold a stray control character; a text of them is binary
        strays = len(_CONTROL.findall(text))
        if "\x00" in text or strays > len(text) // 100:
            raise IngestError(f"{path.name}: PDF-ens tekst består av binære tegn, ikke tekst")
        return _CONTROL.sub("", text)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise IngestError(f"{path.name}: filen er ikke UTF-8-tekst") from e
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise IngestError(f"{path.name}: filen er ikke ren tekst (kontrolltegn U+{ord(bad.group()):04X} på linje {line})")
    return text


def _check_file(file: Path) -> None:
    """A regular file of a sane size, named directly (not through a symbolic link)."""
    try:
        st = os.lstat(file)
    except FileNotFoundError:
        raise IngestError(f"finner ikke filen {file}") from None
    except OSError as e:
        raise IngestError(f"kan ikke lese {file}: {e.strerror or e}") from None
    if stat.S_ISLNK(st.st_mode):
        raise IngestError(f"{file} er en symbolsk lenke: oppgi selve filen")
    if not stat.S_ISREG(st.st_mode):
        raise IngestError(f"{file} er ikke en vanlig fil")
    if st.st_size > MAX_FILE_BYTES:
        raise IngestError(f"{file.name} er for stor ({st.st_size / 1e6:.0f} MB; grensen er {MAX_FILE_BYTES / 1e6:.0f} MB)")


def _check_field(label: str, option: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise IngestError(f"{label} er for lang ({len(value)} tegn; høyst {limit}) ({option})")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
        raise IngestError(f"{label} kan ikke inneholde linjeskift eller kontrolltegn ({option})")


def add_document(
    corpus_dir: Path,
    file: Path,
    *,
    title: str,
    publisher: str,
    kind: str = "dokument",
    year: str = "",
    doc_id: str | None = None,
    url: str = "",
) -> Document:
    file = Path(file)
    _check_file(file)
    title, publisher, kind = title.strip(), publisher.strip(), kind.strip()
    if not title:
        raise IngestError("dokumentet må ha en tittel (--title)")
    if not publisher:
        raise IngestError("dokumentet må ha en utgiver (--publisher)")
    _check_field("tittelen", "--title", title, MAX_TITLE)
    _check_field("utgiveren", "--publisher", publisher, MAX_PUBLISHER)
    _check_field("typen", "--kind", kind, MAX_KIND)
    if url and not re.match(r"^https?://[^\s/]+", url, re.IGNORECASE):
        raise IngestError(f"lenken må begynne med http:// eller https:// (fikk '{url[:40]}')")
    if year and not re.fullmatch(r"\d{4}", year):
        raise IngestError(f"årstallet '{year}' er ikke fire sifre")
    try:
        corpus: Corpus = load_corpus(corpus_dir)
    except CorpusError as e:
        raise IngestError(str(e)) from e
    doc_id = doc_id or slugify(title)
    if not ID_RE.match(doc_id):
        raise IngestError(f"ugyldig id '{doc_id}': små bokstaver, tall og bindestrek")
    if any(d.id == doc_id for d in corpus.documents):
        raise IngestError(f"det finnes allerede et dokument med id '{doc_id}' (velg en annen med --id)")
    text = extract_text(file)
    if len(text.strip()) < MIN_CHARS:
        raise IngestError(f"{file.name}: fant nesten ingen tekst ({len(text.strip())} tegn); er det en skannet PDF?")
    target = Path(corpus_dir) / f"{doc_id}.txt"
    if target.exists():
        raise IngestError(f"{target} finnes allerede")
    doc = Document(
        id=doc_id,
        file=target.name,
        title=title.strip(),
        publisher=publisher.strip(),
        kind=kind.strip(),
        year=year,
        source_file=file.name,
        url=url,
    )
    target.write_text(text, encoding="utf-8")
    try:
        corpus.documents.append(doc)
        save_corpus(corpus)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return doc
