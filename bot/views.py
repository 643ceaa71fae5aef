"""What the engine answers with: view models, no markup. Two renderers turn them into
text: :mod:`bot.render_html` (Telegram) and :mod:`bot.render_text` (terminal and CLI).
Buttons are typed data (:mod:`bot.buttons`) with a Norwegian label."""
from __future__ import annotations

from dataclasses import dataclass, field

from index.chunk import Chunk
from retrieval.models import DocInfo, Hit

from .buttons import CallbackData


@dataclass(frozen=True)
class Button:
    label: str
    data: CallbackData | None = None
    share: str | None = None  # "share in another chat": the text to put after @bot


@dataclass(frozen=True)
class Citation:
    """The one citation format: title · section · publisher, year (an inferred year is
    marked «antatt»)."""

    title: str
    section: str
    publisher: str
    year: str
    url: str = ""

    @classmethod
    def of(cls, doc: DocInfo, chunk: Chunk | None = None) -> "Citation":
        year = f"{doc.year} (antatt)" if doc.year and "year" in doc.inferred else doc.year
        section = " › ".join(chunk.section[-2:]) if chunk is not None else ""
        return cls(doc.title, section, doc.publisher, year, doc.url)

    @property
    def source(self) -> str:
        return ", ".join(p for p in (self.publisher, self.year) if p)


@dataclass(frozen=True)
class Passage:
    """One quoted passage: verbatim text, its lead-in, the best sentence, the citation."""

    number: int
    chunk: Chunk
    citation: Citation
    highlight: tuple[str, ...] = ()

    @classmethod
    def of(cls, number: int, hit: Hit) -> "Passage":
        return cls(number, hit.chunk, Citation.of(hit.doc, hit.chunk), hit.highlight)


@dataclass
class View:
    buttons: list[list[Button]] = field(default_factory=list)
    notice: str = ""  # a short toast (button presses)


@dataclass(frozen=True)
class TopicSummary:
    """A broad question's section (retrieval.topics): where it is, how it opens, how many
    promises it holds (the most relevant are the page's passages), what else touches it."""

    doc_title: str
    path: tuple[str, ...]
    opening: str  # the section's first sentences, verbatim
    promises: int  # how many promises the section holds in all
    related: tuple[str, ...] = ()  # other sections on the topic, named "section (document)"


@dataclass
class AnswerPage(View):
    question: str = ""
    passages: list[Passage] = field(default_factory=list)
    confidence: str = "high"  # "low": shown with the caveat
    scope: str = ""  # the user's filter, in words ("bare løfter")
    note: str = ""  # e.g. the question was cut
    token: str = ""
    page: int = 0
    reason: str = ""  # why it may not answer fully (retrieval.decision.REASONS), first reply only
    topic: TopicSummary | None = None  # a broad question answered with its section (first page)
    scope_line: str = ""  # where the answer comes from, when that needs saying (first page)
    missing: tuple[str, ...] = ()  # the question's key terms the documents never write, named first


@dataclass
class NotCovered(View):
    question: str = ""
    topics: list[str] = field(default_factory=list)  # the nearest sections
    scope: str = ""
    note: str = ""
    tip: str = ""  # what to try instead, when the front end's commands differ from the chat's
    reason: str = ""  # why (retrieval.decision.REASONS), when a signal says so plainly
    missing: tuple[str, ...] = ()  # the question's key terms the documents never write, named first


@dataclass
class ContextView(View):
    target: str = ""  # chunk id
    chunks: list[Chunk] = field(default_factory=list)
    citation: Citation | None = None


@dataclass
class DocumentList(View):
    docs: list[DocInfo] = field(default_factory=list)


@dataclass
class Message(View):
    """Plain words: welcome, help, a confirmation, an error. ``title`` is shown bold."""

    text: str = ""
    title: str = ""
    lines: list[str] = field(default_factory=list)  # bullet lines after the text
    expired: bool = False  # a stale or forged button


@dataclass
class CheckView(View):
    """/sjekk: one graded verdict on a claim (retrieval.claims), the promise it rests on
    verbatim, hedges, and a passage of the same section that qualifies it."""

    claim: str = ""
    verdict: str = "match"  # retrieval.claims.VERDICTS
    words: tuple[str, ...] = ()  # weaker: the hedge or the narrower words; contradicts: the promise's word
    scope: tuple[str, ...] = ()  # weaker by scope: the claim's words the promise lacks ("alle")
    doc: str = ""  # the title of the document the passages come from
    programme: str = ""  # the title of the current programme
    promises: list[Passage] = field(default_factory=list)
    hedges: dict[int, str] = field(default_factory=dict)  # passage number → hedge word
    qualifiers: list[Passage] = field(default_factory=list)
    token: str = ""


@dataclass
class CompareView(View):
    """/sammenlign: the best passage of each document that has one, in a fixed order."""

    topic: str = ""
    passages: list[Passage] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # titles of documents that do not cover it
    token: str = ""


@dataclass
class SectionView(View):
    """/tema: one node of a document's section tree: its subsections (as buttons) and a
    page of the passages directly in it."""

    doc_title: str = ""
    path: tuple[str, ...] = ()
    passages: list[Passage] = field(default_factory=list)
    subsections: int = 0
    page: int = 0
    pages: int = 1
    commitments_only: bool = False


@dataclass(frozen=True)
class InlineItem:
    id: str
    title: str
    description: str
    passage: Passage
