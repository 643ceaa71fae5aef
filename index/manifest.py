"""The corpus manifest (``documents.toml``): the one place that describes a document."""
from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import tomli_w

MANIFEST_NAME = "documents.toml"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


class CorpusError(Exception):
    """A corpus that cannot be read or a document that cannot be added."""


@dataclass(frozen=True)
class Structure:
    """A maintainer's hints about a document's layout, for what the parser cannot see
    (``[document.structure]`` in documents.toml; ``policybot corpus outline`` shows the
    result). Every field is optional.

    layout         "" (headings above their text) or "intro-before-title": the PDF
                   extraction puts a section's opening paragraphs before its title, and
                   a part title ("Del 2 …") may come after the first chapter title of the
                   part; see :mod:`index.sections`.
    parts          titles that stand on their own at the top, like a part ("Et sterkt
                   demokrati" between the foreword and part 1)
    chapters       titles that start a chapter (their sub-sections nest under them)
    subsections    titles that never start a chapter
    not_headings   short lines that read as titles but are running text
    headings       titles glued to the end of a line of running text ("… boligpolitikken
                   Bygge mer"): split off and made headings
    notes          line openings that mark a note, not a passage ("Gjennomføringsgraden …")
    rename         {title as extracted: title to cite}
    starts         {chapter title: opening words of its first passage}, for a chapter whose
                   opening text and first list stand before its title
    """

    layout: str = ""
    parts: tuple[str, ...] = ()
    chapters: tuple[str, ...] = ()
    subsections: tuple[str, ...] = ()
    not_headings: tuple[str, ...] = ()
    headings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    rename: tuple[tuple[str, str], ...] = ()
    starts: tuple[tuple[str, str], ...] = ()

    LAYOUTS = ("", "intro-before-title")

    @classmethod
    def from_toml(cls, raw: object, where: str) -> "Structure":
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise CorpusError(f"{where}: structure må være en tabell")
        known = {"layout", "parts", "chapters", "subsections", "not_headings", "headings", "notes", "rename", "starts"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise CorpusError(f"{where}: ukjent felt i structure: {', '.join(unknown)}")
        layout = raw.get("layout", "")
        if layout not in cls.LAYOUTS:
            raise CorpusError(f"{where}: structure.layout må være en av {', '.join(repr(x) for x in cls.LAYOUTS)}")
        lists = {}
        for key in ("parts", "chapters", "subsections", "not_headings", "headings", "notes"):
            value = raw.get(key, [])
            if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
                raise CorpusError(f"{where}: structure.{key} må være en liste med tekster")
            lists[key] = tuple(x.strip() for x in value)
        tables = {}
        for key in ("rename", "starts"):
            value = raw.get(key, {})
            if not isinstance(value, dict) or not all(isinstance(v, str) and v.strip() for v in value.values()):
                raise CorpusError(f"{where}: structure.{key} må være en tabell av tekster")
            tables[key] = tuple(sorted((k, v.strip()) for k, v in value.items()))
        return cls(layout=layout, **tables, **lists)

    def to_toml(self) -> dict:
        out: dict = {}
        if self.layout:
            out["layout"] = self.layout
        for key in ("parts", "chapters", "subsections", "not_headings", "headings", "notes"):
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        for key in ("rename", "starts"):
            if getattr(self, key):
                out[key] = dict(getattr(self, key))
        return out


@dataclass(frozen=True)
class Document:
    id: str
    file: str
    title: str
    publisher: str
    kind: str
    year: str = ""
    inferred: tuple[str, ...] = ()
    source_file: str = ""
    url: str = ""
    structure: Structure = Structure()

    def citation(self) -> str:
        return format_citation(self.title, self.publisher, self.year, self.inferred)


def format_citation(title: str, publisher: str, year: str, inferred: tuple[str, ...] = ()) -> str:
    """'Title (Publisher, 2023)'; an inferred year is marked 'antatt'."""
    if year and "year" in inferred:
        year = f"{year}, antatt"
    parts = [p for p in (publisher, year) if p]
    return f"{title} ({', '.join(parts)})" if parts else title


@dataclass
class Corpus:
    root: Path
    documents: list[Document] = field(default_factory=list)

    def get(self, doc_id: str) -> Document:
        for d in self.documents:
            if d.id == doc_id:
                return d
        raise KeyError(doc_id)

    def path(self, doc: Document) -> Path:
        return self.root / doc.file

    def read_text(self, doc: Document) -> str:
        try:
            return self.path(doc).read_text(encoding="utf-8")
        except FileNotFoundError as e:
            raise CorpusError(f"dokumentet '{doc.id}': filen {self.path(doc)} mangler") from e
        except UnicodeDecodeError as e:
            raise CorpusError(f"dokumentet '{doc.id}': {self.path(doc)} er ikke UTF-8-tekst") from e
        except OSError as e:
            raise CorpusError(f"dokumentet '{doc.id}': {self.path(doc)} kan ikke leses ({e.strerror or e})") from e


def load_corpus(root: Path) -> Corpus:
    root = Path(root)
    path = root / MANIFEST_NAME
    if not path.is_file():
        raise CorpusError(f"fant ingen {MANIFEST_NAME} i {root}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise CorpusError(f"{path} er ikke UTF-8-tekst") from e
    except tomllib.TOMLDecodeError as e:
        raise CorpusError(f"{path} er ikke gyldig TOML: {e}") from e
    except OSError as e:
        raise CorpusError(f"{path} kan ikke leses: {e.strerror or e}") from e
    docs = []
    seen: set[str] = set()
    entries = data.get("document", [])
    if not isinstance(entries, list) or not all(isinstance(raw, dict) for raw in entries):
        raise CorpusError(f"{path}: hvert dokument må være en egen [[document]]-tabell")
    for i, raw in enumerate(entries):
        wrong = _wrong_types(raw)
        if wrong:
            raise CorpusError(f"{path}: document #{i + 1} har feil type for {', '.join(wrong)} (ventet tekst)")
        missing = [k for k in ("id", "file", "title") if not raw.get(k)]
        if missing:
            raise CorpusError(f"{path}: document #{i + 1} lacks {', '.join(missing)}")
        if raw["id"] in seen:
            raise CorpusError(f"{path}: duplicate document id '{raw['id']}'")
        url = str(raw.get("url", ""))
        if url and not re.match(r"^https?://", url, re.IGNORECASE):
            raise CorpusError(f"{path}: dokumentet '{raw['id']}' har en lenke som ikke er http(s): {url[:40]}")
        target = (root / str(raw["file"])).resolve()
        if Path(str(raw["file"])).is_absolute() or root.resolve() not in target.parents:
            raise CorpusError(f"{path}: dokumentet '{raw['id']}' peker på {raw['file']}, utenfor korpusmappen")
        seen.add(raw["id"])
        docs.append(
            Document(
                id=raw["id"],
                file=raw["file"],
                title=raw["title"],
                publisher=raw.get("publisher", ""),
                kind=raw.get("kind", ""),
                year=str(raw.get("year", "")),
                inferred=tuple(raw.get("inferred", ())),
                source_file=raw.get("source_file", ""),
                url=raw.get("url", ""),
                structure=Structure.from_toml(raw.get("structure"), f"{path}: dokumentet '{raw['id']}'"),
            )
        )
    return Corpus(root=root, documents=docs)


_TEXT_FIELDS = ("id", "file", "title", "publisher", "kind", "source_file", "url")


def _wrong_types(raw: dict) -> list[str]:
    """Fields of one manifest entry whose TOML type the corpus cannot use."""
    wrong = [k for k in _TEXT_FIELDS if k in raw and not isinstance(raw[k], str)]
    year = raw.get("year", "")
    if isinstance(year, bool) or not isinstance(year, (str, int)):
        wrong.append("year")
    inferred = raw.get("inferred", [])
    if not isinstance(inferred, list) or not all(isinstance(x, str) for x in inferred):
        wrong.append("inferred (ventet en liste med tekst)")
    return wrong


def save_corpus(corpus: Corpus) -> None:
    """Write the manifest atomically (write beside, then rename)."""
    path = corpus.root / MANIFEST_NAME
    header = (
        "# The corpus manifest: the one place that describes a document.\n"
        "# `inferred` lists fields deduced from the content rather than read in the document.\n\n"
    )
    docs = []
    for d in corpus.documents:
        row = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(d).items() if k != "structure"}
        row = {k: v for k, v in row.items() if v != "" or k in ("year",)}
        if d.structure.to_toml():
            row["structure"] = d.structure.to_toml()
        docs.append(row)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(header + tomli_w.dumps({"document": docs}), encoding="utf-8")
    tmp.replace(path)
