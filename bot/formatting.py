"""Telegram HTML and plain-text rendering of passages. No Telegram imports: pure strings.

Every piece of corpus or user text goes through ``html.escape``; the only markup is ours
(``<b>``, ``<i>``, ``<blockquote>``, ``<a>``). Messages stay under Telegram's 4,096
characters: passages are added while they fit, and a single over-long passage is cut at a
word boundary with "…" (the quote stays verbatim up to the cut).
"""
from __future__ import annotations

from html import escape

from retrieval.models import DocInfo, Hit
from index.chunk import Chunk

TELEGRAM_LIMIT = 4096
MAX_QUOTE = 1200  # characters of one quoted passage in a chat reply


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def quote_html(chunk: Chunk, highlight: tuple[str, ...] = (), limit: int = MAX_QUOTE) -> str:
    """The passage as a blockquote, lead-in in italics, best sentence in bold."""
    text = _cut(chunk.text, limit)
    body = escape(text)
    for sentence in highlight:
        if sentence and sentence != chunk.text and sentence in text:
            a = text.index(sentence)
            body = escape(text[:a]) + "<b>" + escape(sentence) + "</b>" + escape(text[a + len(sentence) :])
            break
    lead = f"<i>{escape(chunk.lead_in)}</i> … " if chunk.lead_in else ""
    return f"<blockquote>{lead}{body}</blockquote>"


def citation_html(doc: DocInfo, chunk: Chunk) -> str:
    title = f'<a href="{escape(doc.url, quote=True)}">{escape(doc.title)}</a>' if doc.url else f"<i>{escape(doc.title)}</i>"
    section = " › ".join(chunk.section[-2:])
    meta = ", ".join(p for p in (doc.publisher, _year(doc)) if p)
    parts = [f"📄 {title}"]
    if section:
        parts.append(escape(section))
    if meta:
        parts.append(escape(meta))
    return " · ".join(parts)


def citation_plain(doc: DocInfo, chunk: Chunk) -> str:
    section = " › ".join(chunk.section[-2:])
    meta = ", ".join(p for p in (doc.publisher, _year(doc)) if p)
    return " · ".join(p for p in (doc.title, section, meta) if p)


def _year(doc: DocInfo) -> str:
    if doc.year and "year" in doc.inferred:
        return f"{doc.year} (antatt)"
    return doc.year


def hit_html(n: int, hit: Hit) -> str:
    return f"<b>{n}.</b> {quote_html(hit.chunk, hit.highlight)}\n{citation_html(hit.doc, hit.chunk)}"


def hit_plain(n: int, hit: Hit) -> str:
    return f"{n}. «{hit.chunk.display}»\n   — {citation_plain(hit.doc, hit.chunk)}"


def fit(parts: list[str], header: str = "", footer: str = "", limit: int = TELEGRAM_LIMIT) -> tuple[str, int]:
    """Join header, as many parts as fit, and footer; returns the text and how many parts
    went in (at least one: an over-long first part is cut)."""
    out = header
    used = 0
    for p in parts:
        candidate = (out + "\n\n" if out else "") + p
        if len(candidate) + len(footer) + 2 > limit:
            break
        out, used = candidate, used + 1
    if used == 0 and parts:
        # Cannot happen with quotes cut to MAX_QUOTE; never cut markup mid-tag.
        out, used = (header + "\n\n" if header else "") + parts[0], 1
    if footer:
        out += "\n\n" + footer
    return out, used
