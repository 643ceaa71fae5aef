"""Add a document to the corpus: extract its text (.txt, .md, .pdf), write it beside the
manifest under a stable id, and record it in the manifest. Nothing changes on error."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from .manifest import ID_RE, Corpus, CorpusError, Document, load_corpus, save_corpus

SUFFIXES = (".txt", ".md", ".pdf")
MIN_CHARS = 200


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
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(str(path))
            if reader.is_encrypted:
                raise IngestError(f"{path.name}: PDF-en er kryptert")
            pages = [page.extract_text() or "" for page in reader.pages]
        except IngestError:
            raise
        except (PdfReadError, OSError, ValueError, KeyError) as e:
            raise IngestError(f"{path.name}: kan ikke lese PDF-en ({e})") from e
        return "\n\n".join(pages)
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise IngestError(f"{path.name}: filen er ikke UTF-8-tekst") from e


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
    if not file.is_file():
        raise IngestError(f"finner ikke filen {file}")
    if not title.strip():
        raise IngestError("dokumentet må ha en tittel (--title)")
    if not publisher.strip():
        raise IngestError("dokumentet må ha en utgiver (--publisher)")
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
