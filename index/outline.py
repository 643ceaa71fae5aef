"""A document's outline: its section tree as the parser sees it, with how many passages
and promises each section holds. ``policybot corpus outline`` prints it so a maintainer
can check a new document's structure and correct it in ``documents.toml``
(``[document.structure]``, see :class:`index.manifest.Structure`) without touching code."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .chunk import chunk_document
from .manifest import Document
from .parse import parse_document


@dataclass(frozen=True)
class Section:
    path: tuple[str, ...]
    line: int  # 1-based line of the heading in the source file
    passages: int  # passages whose section is exactly this path
    promises: int  # of them, "… vil:" commitments

    @property
    def title(self) -> str:
        return self.path[-1] if self.path else ""

    def to_json(self) -> dict:
        return {"path": list(self.path), "line": self.line, "passages": self.passages, "promises": self.promises}


def outline(doc: Document, text: str) -> list[Section]:
    """Every heading in reading order with its path and counts; passages before the
    first heading are listed under the empty path at line 1."""
    chunks = chunk_document(doc.id, text, doc.structure)
    passages = Counter(c.section for c in chunks)
    promises = Counter(c.section for c in chunks if c.kind == "commitment")
    out: list[Section] = []
    if passages.get(()):
        out.append(Section((), 1, passages[()], promises[()]))
    seen: set[tuple[str, ...]] = set()
    for u in parse_document(text, doc.structure):
        if u.kind != "heading" or u.section in seen:
            continue
        seen.add(u.section)
        out.append(Section(u.section, text.count("\n", 0, u.start) + 1, passages.get(u.section, 0), promises.get(u.section, 0)))
    return out
