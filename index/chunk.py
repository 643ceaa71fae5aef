"""Turn parsed units into retrieval chunks that respect the document's structure.

Rules:

* A bullet item is never split. A top-level bullet and its ``o`` sub-bullets form one chunk;
  it carries its lead-in ("Arbeiderpartiet vil:") and section path. Bullets under a
  "… vil:" lead-in are of kind ``commitment``, other bullets of kind ``bullet``.
* Paragraphs are packed together up to ``TARGET`` characters without crossing a heading, a
  page header, a list or anything else that is not whitespace in the source; a paragraph
  longer than ``SPLIT_OVER`` is cut at sentence boundaries.
* Headings are not chunks (they are in every chunk's ``section``); a lead-in that is just
  "Arbeiderpartiet vil:" is not a chunk either (it is in its bullets' ``lead_in``).

Every chunk's ``text`` is ``clean(source[start:end])``: the source file is the citation.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass

from .manifest import Structure
from .parse import Unit, clean, last_sentence, parse_document

CHUNKER_VERSION = "5"
TARGET = 650  # pack paragraphs up to about this many characters
HARD_MAX = 1000  # never pack past this
SPLIT_OVER = 1000  # paragraphs longer than this are cut at sentence boundaries

_RAW_SENTENCE_GAP = re.compile(r"[.!?][⁰¹²³⁴⁵⁶⁷⁸⁹]*(\s+)(?=[A-ZÆØÅ«\"(])")


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    ordinal: int  # position of the chunk in its document
    section: tuple[str, ...]
    kind: str  # commitment, bullet, paragraph
    text: str  # what is shown and quoted: clean(source[start:end])
    start: int
    end: int
    lead_in: str = ""
    embed_text: str = ""

    def to_json(self) -> dict:
        d = asdict(self)
        d["section"] = list(self.section)
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Chunk":
        return cls(**{**d, "section": tuple(d["section"])})

    @property
    def display(self) -> str:
        """The passage as a person reads it: lead-in, then the quoted text."""
        return f"{self.lead_in} … {self.text}" if self.lead_in else self.text


def embed_text_for(section: tuple[str, ...], lead_in: str, text: str) -> str:
    head = " › ".join(section[-2:])
    body = f"{lead_in} {text}" if lead_in else text
    return f"{head}\n{body}" if head else body


def _gap_is_blank(src: str, a: int, b: int) -> bool:
    return not src[a:b].strip()


def _split_long(src: str, u: Unit) -> list[tuple[int, int]]:
    """Cut a long unit at sentence gaps into pieces of about TARGET characters."""
    cuts = [u.start]
    raw = src[u.start : u.end]
    last = 0
    for m in _RAW_SENTENCE_GAP.finditer(raw):
        gap_start, gap_end = m.span(1)
        if gap_start - last >= TARGET:
            cuts.append(u.start + gap_start)
            cuts.append(u.start + gap_end)
            last = gap_end
    cuts.append(u.end)
    pieces = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)]
    # fold a short tail into its predecessor
    if len(pieces) > 1 and pieces[-1][1] - pieces[-1][0] < TARGET // 3:
        pieces[-2:] = [(pieces[-2][0], pieces[-1][1])]
    return pieces


def chunk_units(doc_id: str, src: str, units: list[Unit]) -> list[Chunk]:
    spans: list[tuple[str, int, int, tuple[str, ...], str]] = []  # kind, start, end, section, lead_in

    i = 0
    n = len(units)
    while i < n:
        u = units[i]
        if u.kind == "heading":
            i += 1
            continue
        if u.kind == "bullet":
            start, end = u.start, u.end
            j = i + 1
            while j < n and units[j].kind == "bullet" and units[j].level > u.level and _gap_is_blank_or_mark(src, end, units[j].start):
                end = units[j].end
                j += 1
            kind = "commitment" if u.commitment else "bullet"
            spans.append((kind, start, end, u.section, u.lead_in))
            i = j
            continue
        if u.kind == "leadin":
            # "Arbeiderpartiet vil:" alone is not a passage; a lead-in paragraph with
            # content before its last sentence is.
            if len(u.text) - len(last_sentence(u.text)) < 60:
                i += 1
                continue
        # paragraphs (and substantial lead-ins): pack within a section
        if u.end - u.start > SPLIT_OVER:
            for a, b in _split_long(src, u):
                spans.append(("paragraph", a, b, u.section, ""))
            i += 1
            continue
        start, end = u.start, u.end
        size = len(u.text)
        j = i + 1
        while j < n:
            v = units[j]
            if v.kind not in ("paragraph",) or v.section != u.section or u.alone or v.alone:
                break
            if not _gap_is_blank(src, end, v.start) or v.end - v.start > SPLIT_OVER:
                break
            if size + len(v.text) > HARD_MAX or size >= TARGET:
                break
            end = v.end
            size += len(v.text) + 1
            j += 1
        spans.append(("paragraph", start, end, u.section, ""))
        i = j

    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for ordinal, (kind, start, end, section, lead_in) in enumerate(spans):
        text = clean(src[start:end])
        digest = hashlib.sha1(f"{doc_id}\x00{text}".encode()).hexdigest()[:10]
        k = seen.get(digest, 0)
        seen[digest] = k + 1
        cid = f"{doc_id}#{digest}" + (f"-{k}" if k else "")
        chunks.append(
            Chunk(
                id=cid,
                doc_id=doc_id,
                ordinal=ordinal,
                section=section,
                kind=kind,
                text=text,
                start=start,
                end=end,
                lead_in=lead_in,
                embed_text=embed_text_for(section, lead_in, text),
            )
        )
    return chunks


def _gap_is_blank_or_mark(src: str, a: int, b: int) -> bool:
    """Between a bullet and its sub-bullet lies only whitespace and the 'o' mark."""
    gap = src[a:b].strip()
    return gap in ("", "o", "◦", "-", "•")


def chunk_document(doc_id: str, src: str, structure: Structure | None = None) -> list[Chunk]:
    return chunk_units(doc_id, src, parse_document(src, structure))
