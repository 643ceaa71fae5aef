"""Broad questions ("Hva vil Ap gjøre for eldre?", "What is the party's health policy?")
are answered with the section that covers the topic: its path, its opening sentences, its
promises (the most relevant first) and the other sections that touch the topic. Specific
questions keep their passages.

Which kind a question is, is decided from the evidence of one search, not from the
wording alone:

* the wording asks about a topic in general («politikk på X», «X-politikk», «hva sier/
  mener … om X», «hva vil … gjøre for/med X», "policy on X", "what does … say about X");
* and a section's own title names the question's topic (stems, and the heads of
  compounds: «helse» names «Én felles helsetjeneste»), with passages inside it among
  the best ranked. (A section that merely holds most of the best passages is not
  enough: that is as true of a specific question.)

The measures (section hit@k, high-confidence share, broad and specific questions apart)
are in ``policybot eval`` and docs/retrieval.md.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.chunk import Chunk
from index.layout import is_part_title
from index.parse import split_sentences
from index.tokenize import tokens

from .models import DocInfo, Hit
from .sections import SectionTree

# "politikk på eldre", "skolepolitikken", "policy on", "hva sier … om", "hva vil … gjøre for"
_BROAD = re.compile(
    r"(politikk|policy|policies|\bsyn på\b|\bstandpunkt"
    r"|\b(hva|kva)\s+(sier|seier|mener|meiner|står|vil|gjør|gjer|gjør)\b.{0,40}\b(om|for|med|mot|på|i)\b"
    r"|\b(hva|kva)\s+vil\b.{0,30}\b(gjøre|gjere)\b"
    r"|\bwhat\b.{0,40}\b(say|think|want|plan|do|does)\b.{0,30}\b(about|for|on|with)\b)",
    re.IGNORECASE,
)
# words that say whose policy, not which topic
GENERIC_WORDS = frozenset(
    "politikk politikken policy parti partiet partiets arbeiderparti arbeiderpartiet arbeiderpartiets "
    "programmet handlingsplanen veilederen utvalget migrasjonsutvalget regjeringen regjeringa standpunkt".split()
)
_GENERIC = frozenset(
    tokens(
        "politikk policy policies politikken parti partiet partiets arbeiderparti arbeiderpartiet arbeiderpartiets "
        "ap aps ap's labour party dere deres gjøre gjere sier seier mener meiner står vil hva kva what does say "
        "think want plan programmet program programme handlingsplanen veilederen utvalget migrasjonsutvalget oslo "
        "regjeringen regjeringa syn standpunkt norge norsk"
    )
)
MAX_HITS = 15  # the ranked passages whose sections are weighed
MIN_MASS = 0.3  # a title-matched section needs at least a top-3 passage's weight
PROMISE_BONUS = 0.02  # a promise goes before a paragraph of the section scoring up to this much more


@dataclass(frozen=True)
class TopicSection:
    doc: DocInfo
    path: tuple[str, ...]
    node: int  # the section's node in its document's tree (retrieval.sections)


@dataclass
class TopicAnswer:
    """The section that answers a broad question, as data (the renderers word it)."""

    section: TopicSection
    opening: str  # the section's first sentences, verbatim
    opening_chunk: Chunk | None
    promises: list[Chunk] = field(default_factory=list)  # every promise in it, the most relevant first
    related: list[TopicSection] = field(default_factory=list)  # other sections touching the topic
    found_by: str = "title"  # how it was found: a section's title names the topic
    shown: list[Chunk] = field(default_factory=list)  # what to show first: its best passages, promises first, then its other promises

    def to_json(self, limit: int = 5) -> dict:
        def sec(s: TopicSection) -> dict:
            return {"doc_id": s.doc.id, "title": s.doc.title, "path": list(s.path)}

        return {
            **sec(self.section),
            "opening": self.opening,
            "promises_total": len(self.promises),
            "promises": [{"id": c.id, "section": list(c.section), "lead_in": c.lead_in, "text": c.text} for c in self.promises[:limit]],
            "shown": [{"id": c.id, "kind": c.kind, "section": list(c.section), "lead_in": c.lead_in, "text": c.text} for c in self.shown[:limit]],
            "related": [sec(s) for s in self.related],
        }


def is_broad_wording(question: str) -> bool:
    return bool(_BROAD.search(question))


def topic_terms(lexical_text: str, split) -> set[str]:
    """The question's topic as stems: its content words less the generic ones, with the
    parts of its compounds («skolepolitikk» → «skole»)."""
    words = re.findall(r"[^\W\d_]+", lexical_text.lower())
    stems: set[str] = set()
    for w in words:
        # "skolepolitikken", "klimapolitikk": the topic is the head
        heads = [w[: -len(g)] for g in ("politikken", "politikk", "spolitikken", "spolitikk") if w.endswith(g) and len(w) > len(g) + 2]
        for part in (w, *split(w), *heads):
            stems.update(t for t in tokens(part) if t not in _GENERIC and len(t) >= 3)
    return stems


def _title_match(title: str, terms: set[str]) -> int:
    """How many topic stems the title names: as a word («SLT»), as the head of a
    compound in the title («helse» in «helsetjeneste»), or as the head of the question's
    word («pensjon» in «pensjonistene»)."""
    words = tokens(title)
    return sum(
        1
        for t in terms
        if any(w == t or (len(t) >= 4 and w.startswith(t)) or (len(w) >= 5 and t.startswith(w)) for w in words)
    )


def find_topic(
    question: str,
    lexical_text: str,
    hits: list[Hit],
    trees: dict[str, SectionTree],
    chunks: list[Chunk],
    index_of: dict[str, int],
    split=lambda w: (),
    prefer_doc: str | None = None,
    known=lambda w: True,
) -> TopicAnswer | None:
    """The section that answers ``question`` when it is broad and a section stands out
    in ``hits`` (ranked passages, promises already before their sections' paragraphs:
    :func:`promise_first`); None for a specific question."""
    if not hits or not is_broad_wording(question):
        return None
    words = [w for w in re.findall(r"[^\W\d_]{4,}", lexical_text.lower()) if not set(tokens(w)) <= _GENERIC]
    if any(not known(w) for w in words):
        return None  # «Hva mener Ap om KRLE-faget i skolen?»: the topic is a word the documents never use
    terms = topic_terms(lexical_text, split)
    mass: dict[tuple[str, tuple[str, ...]], float] = {}
    for rank, h in enumerate(hits[:MAX_HITS]):
        w = 1.0 / (rank + 1)
        path = tuple(h.chunk.section)
        for depth in range(1, len(path) + 1):
            key = (h.chunk.doc_id, path[:depth])
            mass[key] = mass.get(key, 0.0) + w
    if not mass:
        return None

    named = [(k, m, _title_match(k[1][-1], terms)) for k, m in mass.items()]
    named = [(k, m, n) for k, m, n in named if n > 0 and m >= MIN_MASS]
    if prefer_doc and any(k[0] == prefer_doc for k, _m, _n in named):
        named = [x for x in named if x[0][0] == prefer_doc]  # "Ap vil …": the programme first
    if not named:
        return None
    # most topic words named, a chapter or section before a whole part, then the most
    # weight (a chapter holds its sections' weight too, so it wins over one of them)
    key = max(named, key=lambda x: (x[2], not (len(x[0][1]) == 1 and is_part_title(x[0][1][0])), x[1], -len(x[0][1])))[0]
    found_by = "title"
    doc_id, path = key
    tree = trees.get(doc_id)
    node = tree.node_of(path) if tree else None
    if node is None:
        return None
    section = TopicSection(hits[0].doc if hits[0].chunk.doc_id == doc_id else next(h.doc for h in hits if h.chunk.doc_id == doc_id), path, node)
    under = tree.under(node)
    inside = [chunks[i] for i in under]
    opening_chunk = next((c for c in inside if c.kind == "paragraph"), inside[0] if inside else None)
    opening = ""
    if opening_chunk is not None:
        opening = " ".join(split_sentences(opening_chunk.text)[:2])
    ranked = {h.chunk.id: r for r, h in enumerate(hits)}
    members = set(under)
    in_section = [h for h in hits if index_of.get(h.chunk.id) in members]
    if not in_section or ranked[in_section[0].chunk.id] >= 3:
        return None  # the best passages stand elsewhere: a specific question after all
    promises = [c for c in inside if c.kind == "commitment"]
    promises.sort(key=lambda c: (ranked.get(c.id, len(ranked) + index_of.get(c.id, 0) / 1e6),))
    # what the answer shows first: the section's best-ranked passages, a promise before
    # an introductory paragraph that scores about the same, then its other promises
    shown = [h.chunk for h in hits] + [c for c in promises if c.id not in {h.chunk.id for h in hits}]
    if opening_chunk is not None and opening_chunk in shown[:3]:
        opening = ""  # the opening paragraph is among the passages shown: not quoted twice
    related: list[TopicSection] = []
    for k, _m in sorted(mass.items(), key=lambda kv: -kv[1]):
        d, p = k
        if (d == doc_id and (p[: len(path)] == path or path[: len(p)] == p)) or len(p) < 2 and d == doc_id:
            continue
        if any(r.doc.id == d and (r.path[: len(p)] == p or p[: len(r.path)] == r.path) for r in related):
            continue
        t = trees.get(d)
        n = t.node_of(p) if t else None
        if n is None:
            continue
        doc = next(h.doc for h in hits if h.chunk.doc_id == d)
        related.append(TopicSection(doc, p, n))
        if len(related) >= 3:
            break
    return TopicAnswer(section=section, opening=opening, opening_chunk=opening_chunk, promises=promises, related=related, found_by=found_by, shown=shown)


def promise_first(hits: list[Hit]) -> list[Hit]:
    """The ranked passages with a promise moved before a paragraph of the same section
    that ranks above it by less than PROMISE_BONUS: when a commitment answers, it comes
    before the section's introduction."""
    out = list(hits)
    for i in range(1, len(out)):
        j = i
        while (
            j > 0
            and out[j].chunk.kind == "commitment"
            and out[j - 1].chunk.kind == "paragraph"
            and out[j - 1].chunk.section == out[j].chunk.section
            and out[j - 1].score - out[j].score < PROMISE_BONUS
        ):
            out[j - 1], out[j] = out[j], out[j - 1]
            j -= 1
    return out
