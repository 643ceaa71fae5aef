"""Typed results at the boundary between retrieval and the bot."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from index.chunk import Chunk
from index.manifest import format_citation


@dataclass(frozen=True)
class DocInfo:
    id: str
    title: str
    publisher: str
    kind: str
    year: str
    inferred: tuple[str, ...] = ()
    url: str = ""
    chunks: int = 0

    def citation(self) -> str:
        return format_citation(self.title, self.publisher, self.year, self.inferred)


@dataclass(frozen=True)
class Filters:
    doc_ids: frozenset[str] = frozenset()
    publisher: str = ""
    kind: str = ""
    commitments_only: bool = False

    def allows(self, chunk: Chunk, doc: DocInfo) -> bool:
        if self.doc_ids and chunk.doc_id not in self.doc_ids:
            return False
        if self.publisher and self.publisher.lower() not in doc.publisher.lower():
            return False
        if self.kind and self.kind.lower() != doc.kind.lower():
            return False
        if self.commitments_only and chunk.kind != "commitment":
            return False
        return True

    @property
    def active(self) -> bool:
        return bool(self.doc_ids or self.publisher or self.kind or self.commitments_only)


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    doc: DocInfo
    score: float
    highlight: tuple[str, ...] = ()  # the sentence(s) of chunk.text that best match

    @property
    def section(self) -> str:
        return " › ".join(self.chunk.section)

    def to_json(self) -> dict:
        c = self.chunk
        return {
            "id": c.id,
            "doc_id": c.doc_id,
            "title": self.doc.title,
            "publisher": self.doc.publisher,
            "year": self.doc.year,
            "section": self.section,
            "kind": c.kind,
            "lead_in": c.lead_in,
            "text": c.text,
            "score": round(float(self.score), 4),
            "start": c.start,
            "end": c.end,
            "highlight": list(self.highlight),
        }


@dataclass
class SearchResult:
    query: str
    abstained: bool  # the documents do not cover the question ("not covered")
    hits: list[Hit] = field(default_factory=list)  # empty when abstained
    near_misses: list[Hit] = field(default_factory=list)  # the closest passages when abstained
    confidence: str | None = None  # "high" or "low" for an answer, None when not covered
    language: str = "nb"  # the question's language (retrieval.language)
    signals: dict[str, float] = field(default_factory=dict)  # what the decision saw
    reason: str | None = None  # why it is not (fully) answered: decision.REASONS, or None
    topic: Any = None  # a broad question's section: retrieval.topics.TopicAnswer (which builds on this module)
    scope_note: Any = None  # where the answer comes from, when that needs saying: retrieval.scope.ScopeNote
    missing: tuple[str, ...] = ()  # key terms of the question the documents never write («formuesskatt»)

    def to_json(self) -> dict:
        return {
            "query": self.query,
            "abstained": self.abstained,
            "confidence": None if self.abstained else self.confidence,
            "language": self.language,
            "reason": self.reason,
            "missing": list(self.missing),
            "results": [h.to_json() for h in self.hits],
            "near_misses": [h.to_json() for h in self.near_misses],
            "topic": self.topic.to_json() if self.topic is not None else None,
            "scope_note": None if self.scope_note is None else {"kind": self.scope_note.kind, "document": self.scope_note.doc_title, "term": self.scope_note.term},
        }
