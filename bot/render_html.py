"""Telegram HTML rendering of the engine's views. Every piece of corpus or user text goes
through ``html.escape``; the only markup is ours (``<b>``, ``<i>``, ``<blockquote>``,
``<a>``). Messages stay under Telegram's 4,096 characters: passages are added while they
fit, and one over-long passage is cut at a word boundary with "…".

Every piece of text that comes from a document or a user has a length cap here (lead-ins,
titles, publishers, section names, the claim, the topic), so a message stays under the
limit whatever the corpus holds: a 4,000-character lead-in or a 300-character title used
to make a 5,000- to 12,000-character message that Telegram refused."""
from __future__ import annotations

from functools import singledispatch
from html import escape

from index.chunk import Chunk

from .views import AnswerPage, CheckView, Citation, CompareView, ContextView, DocumentList, Message, NotCovered, Passage, SectionView, View
from . import wording as w

TELEGRAM_LIMIT = 4096
MAX_QUOTE = 1000  # characters of one quoted passage: three passages always fit one message
MAX_LEAD_IN = 200  # a lead-in is context for the passage, not the passage
MAX_TITLE = 150
MAX_SOURCE = 120  # publisher and year
MAX_SECTION = 120
MAX_USER_TEXT = 300  # a claim or topic the user typed, repeated in the reply
MAX_LIST = 1000  # a list of names (topics, documents not covering a topic)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return (text[:limit].rsplit(" ", 1)[0] or text[:limit]) + " …"


def quote(chunk: Chunk, highlight: tuple[str, ...] = (), limit: int = MAX_QUOTE) -> str:
    """The passage as a blockquote, lead-in in italics, best sentence in bold."""
    text = _cut(chunk.text, limit)
    body = escape(text)
    for sentence in highlight:
        if sentence and sentence != chunk.text and sentence in text:
            a = text.index(sentence)
            body = escape(text[:a]) + "<b>" + escape(sentence) + "</b>" + escape(text[a + len(sentence) :])
            break
    lead = f"<i>{escape(_cut(chunk.lead_in, MAX_LEAD_IN))}</i> … " if chunk.lead_in else ""
    return f"<blockquote>{lead}{body}</blockquote>"


def citation(c: Citation) -> str:
    name = escape(_cut(c.title, MAX_TITLE))
    title = f'<a href="{escape(c.url, quote=True)}">{name}</a>' if c.url else f"<i>{name}</i>"
    parts = [escape(_cut(p, limit)) for p, limit in ((c.section, MAX_SECTION), (c.source, MAX_SOURCE)) if p]
    return "📄 " + " · ".join([title] + parts)


def passage(p: Passage) -> str:
    return f"<b>{p.number}.</b> {quote(p.chunk, p.highlight)}\n{citation(p.citation)}"


def fit(parts: list[str], header: str = "", footer: str = "", limit: int = TELEGRAM_LIMIT, sep: str = "\n\n") -> tuple[str, int]:
    """Header, as many parts as fit, footer; returns the text and how many parts went in
    (at least one: every part is built from capped pieces, so one always fits). Lengths
    are counted with the markup, which is more than Telegram counts after parsing."""
    out, used = header, 0
    for p in parts:
        candidate = (out + sep if out else "") + p
        if len(candidate) + len(footer) + len(sep) > limit:
            break
        out, used = candidate, used + 1
    if used == 0 and parts:
        out, used = (header + sep if header else "") + parts[0], 1
    if footer:
        out += sep + footer
    return out, used


@singledispatch
def render(view: View) -> str:
    raise TypeError(f"no HTML rendering for {type(view).__name__}")


@render.register
def _(view: AnswerPage) -> str:
    head = [escape(view.note)] if view.note else []
    if view.missing and view.page == 0:
        head.append(f"<i>{escape(w.missing_line(view.missing, view.confidence))}</i>")
    elif view.confidence == "low" and view.page == 0:
        head.append(f"<i>{escape(w.CAVEAT)}</i>")
    if line := w.reason_line(view.reason, answered=True):
        head.append(f"<i>{escape(line)}</i>")
    if view.scope_line:
        head.append(f"<i>{escape(_cut(view.scope_line, MAX_LIST // 2))}</i>")
    if view.scope:
        head.append(f"<i>{w.SEARCHED_IN}: {escape(_cut(view.scope, MAX_TITLE + 40))}</i>")
    footer = ""
    if view.topic is not None:
        t = view.topic
        head.append(f"📂 <b>{escape(_cut(' › '.join((t.doc_title,) + t.path), 300))}</b>")
        if t.opening:
            head.append(f"«{escape(_cut(t.opening, 600))}»")
        head.append(escape(w.topic_promises(t.promises)))
        if t.related:
            footer = escape(w.TOPIC_RELATED) + " " + "; ".join(f"<i>{escape(_cut(r, 150))}</i>" for r in t.related) + "."
    text, _ = fit([passage(p) for p in view.passages], "\n".join(head), footer=footer, limit=TELEGRAM_LIMIT - 50)
    return text


@render.register
def _(view: NotCovered) -> str:
    where = f" ({w.SEARCHED_IN.lower()}: {_cut(view.scope, MAX_TITLE + 40)})" if view.scope else ""
    parts = [escape(view.note)] if view.note else []
    if view.missing:
        parts.append(escape(w.missing_line(view.missing, None)))
    parts.append(escape(f"{w.NOT_COVERED}{where}."))
    if line := w.reason_line(view.reason, answered=False):
        parts.append(escape(line))
    if view.topics:
        parts.append(escape(w.NOT_COVERED_NEAREST) + " " + "; ".join(f"<i>{escape(_cut(t, MAX_SECTION))}</i>" for t in view.topics[:8]) + ".")
    parts.append(escape(w.NOT_COVERED_TIP_FILTERED if view.scope else w.NOT_COVERED_TIP))
    return "\n\n".join(parts)


@render.register
def _(view: ContextView) -> str:
    target = next((c for c in view.chunks if c.id == view.target), None)
    where = " › ".join(_cut(s, MAX_SECTION // 2) for s in target.section[-2:]) if target else ""
    header = f"<b>Sammenheng</b>" + (f" ({escape(where)})" if where else "")
    parts = [quote(c, (c.text,) if c.id == view.target else (), limit=1000) for c in view.chunks]
    text, _ = fit(parts, header, citation(view.citation) if view.citation else "")
    return text


@render.register
def _(view: DocumentList) -> str:
    lines = ["<b>Dokumentene jeg svarer fra</b>"]
    for d in view.docs:
        c = Citation.of(d)
        lines.append(f"• <i>{escape(_cut(d.title, MAX_TITLE))}</i> — {escape(_cut(c.source, MAX_SOURCE))} · {d.chunks} avsnitt")
    text, _ = fit(lines[1:], lines[0], limit=TELEGRAM_LIMIT - 50, sep="\n")
    return text


@render.register
def _(view: Message) -> str:
    parts = []
    if view.title:
        parts.append(f"<b>{escape(_cut(view.title, MAX_TITLE))}</b>")
    if view.text:
        parts.append(escape(_cut(view.text, TELEGRAM_LIMIT // 2)))
    text, _ = fit([f"• {escape(_cut(line, 500))}" for line in view.lines], "\n".join(parts), limit=TELEGRAM_LIMIT - 50, sep="\n")
    return text


@render.register
def _(view: CheckView) -> str:
    head = f"<i>Påstand: «{escape(_cut(view.claim, MAX_USER_TEXT))}»</i>\n<b>{escape(_cut(w.check_verdict(view.verdict, view.words, view.scope, view.doc, view.programme), MAX_LIST // 2))}</b>"
    parts = [passage(p) + (f"\n⚠️ <b>{escape(w.hedge_note(view.hedges[p.number]))}</b>" if p.number in view.hedges else "") for p in view.promises]
    if view.qualifiers:
        parts += [f"<i>{escape(w.CHECK_QUALIFIES)}</i>"] + [passage(p) for p in view.qualifiers]
    text, _ = fit(parts, head, limit=TELEGRAM_LIMIT - 50)
    return text


@render.register
def _(view: CompareView) -> str:
    missing = escape(_cut("; ".join(_cut(t, MAX_TITLE // 2) for t in view.missing), MAX_LIST))
    footer = f"<i>{escape(w.COMPARE_MISSING)}</i> {missing}." if view.missing else ""
    parts = [passage(p) for p in view.passages]
    text, _ = fit(parts, f"<b>Hva dokumentene sier om «{escape(_cut(view.topic, MAX_USER_TEXT))}»</b>", footer, limit=TELEGRAM_LIMIT - 50)
    return text


@render.register
def _(view: SectionView) -> str:
    head = "🗂 <b>" + escape(_cut(" › ".join(_cut(p, MAX_SECTION) for p in (view.doc_title,) + view.path), MAX_LIST)) + "</b>"
    if view.subsections:
        head += f"\n{view.subsections} underkapitler: velg under."
    parts = [passage(p) for p in view.passages]
    footer = f"<i>Side {view.page + 1} av {view.pages}</i>" if view.pages > 1 else ""
    text, _ = fit(parts, head, footer, limit=TELEGRAM_LIMIT - 50)
    return text
