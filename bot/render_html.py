"""Telegram HTML rendering of the engine's views. Every piece of corpus or user text goes
through ``html.escape``; the only markup is ours (``<b>``, ``<i>``, ``<blockquote>``,
``<a>``). Messages stay under Telegram's 4,096 characters: passages are added while they
fit, and one over-long passage is cut at a word boundary with "…"."""
from __future__ import annotations

from functools import singledispatch
from html import escape

from index.chunk import Chunk

from .views import AnswerPage, CheckView, Citation, CompareView, ContextView, DocumentList, Message, NotCovered, Passage, SectionView, View
from . import wording as w

TELEGRAM_LIMIT = 4096
MAX_QUOTE = 1000  # characters of one quoted passage: three passages always fit one message


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def quote(chunk: Chunk, highlight: tuple[str, ...] = (), limit: int = MAX_QUOTE) -> str:
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


def citation(c: Citation) -> str:
    title = f'<a href="{escape(c.url, quote=True)}">{escape(c.title)}</a>' if c.url else f"<i>{escape(c.title)}</i>"
    return "📄 " + " · ".join([title] + [escape(p) for p in (c.section, c.source) if p])


def passage(p: Passage) -> str:
    return f"<b>{p.number}.</b> {quote(p.chunk, p.highlight)}\n{citation(p.citation)}"


def fit(parts: list[str], header: str = "", footer: str = "", limit: int = TELEGRAM_LIMIT) -> tuple[str, int]:
    """Header, as many parts as fit, footer; returns the text and how many parts went in
    (at least one: quotes are cut to MAX_QUOTE, so one always fits)."""
    out, used = header, 0
    for p in parts:
        candidate = (out + "\n\n" if out else "") + p
        if len(candidate) + len(footer) + 2 > limit:
            break
        out, used = candidate, used + 1
    if used == 0 and parts:
        out, used = (header + "\n\n" if header else "") + parts[0], 1
    if footer:
        out += "\n\n" + footer
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
        head.append(f"<i>{escape(view.scope_line)}</i>")
    if view.scope:
        head.append(f"<i>{w.SEARCHED_IN}: {escape(view.scope)}</i>")
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
    where = f" ({w.SEARCHED_IN.lower()}: {view.scope})" if view.scope else ""
    parts = [escape(view.note)] if view.note else []
    if view.missing:
        parts.append(escape(w.missing_line(view.missing, None)))
    parts.append(escape(f"{w.NOT_COVERED}{where}."))
    if line := w.reason_line(view.reason, answered=False):
        parts.append(escape(line))
    if view.topics:
        parts.append(escape(w.NOT_COVERED_NEAREST) + " " + "; ".join(f"<i>{escape(t)}</i>" for t in view.topics) + ".")
    parts.append(escape(w.NOT_COVERED_TIP_FILTERED if view.scope else w.NOT_COVERED_TIP))
    return "\n\n".join(parts)


@render.register
def _(view: ContextView) -> str:
    target = next((c for c in view.chunks if c.id == view.target), None)
    where = " › ".join(target.section[-2:]) if target else ""
    header = f"<b>Sammenheng</b>" + (f" ({escape(where)})" if where else "")
    parts = [quote(c, (c.text,) if c.id == view.target else (), limit=1000) for c in view.chunks]
    text, _ = fit(parts, header, citation(view.citation) if view.citation else "")
    return text


@render.register
def _(view: DocumentList) -> str:
    lines = ["<b>Dokumentene jeg svarer fra</b>"]
    for d in view.docs:
        c = Citation.of(d)
        lines.append(f"• <i>{escape(d.title)}</i> — {escape(c.source)} · {d.chunks} avsnitt")
    return "\n".join(lines)


@render.register
def _(view: Message) -> str:
    parts = []
    if view.title:
        parts.append(f"<b>{escape(view.title)}</b>")
    if view.text:
        parts.append(escape(view.text))
    out = "\n".join(parts)
    if view.lines:
        out += ("\n" if out else "") + "\n".join(f"• {escape(line)}" for line in view.lines)
    return out


@render.register
def _(view: CheckView) -> str:
    head = f"<i>Påstand: «{escape(view.claim)}»</i>\n<b>{escape(w.check_verdict(view.verdict, view.words, view.scope, view.doc, view.programme))}</b>"
    parts = [passage(p) + (f"\n⚠️ <b>{escape(w.hedge_note(view.hedges[p.number]))}</b>" if p.number in view.hedges else "") for p in view.promises]
    if view.qualifiers:
        parts += [f"<i>{escape(w.CHECK_QUALIFIES)}</i>"] + [passage(p) for p in view.qualifiers]
    text, _ = fit(parts, head, limit=TELEGRAM_LIMIT - 50)
    return text


@render.register
def _(view: CompareView) -> str:
    footer = f"<i>{escape(w.COMPARE_MISSING)}</i> " + "; ".join(escape(t) for t in view.missing) + "." if view.missing else ""
    parts = [passage(p) for p in view.passages]
    text, _ = fit(parts, f"<b>Hva dokumentene sier om «{escape(view.topic)}»</b>", footer, limit=TELEGRAM_LIMIT - 50)
    return text


@render.register
def _(view: SectionView) -> str:
    head = "🗂 <b>" + escape(" › ".join((view.doc_title,) + view.path)) + "</b>"
    if view.subsections:
        head += f"\n{view.subsections} underkapitler: velg under."
    parts = [passage(p) for p in view.passages]
    footer = f"<i>Side {view.page + 1} av {view.pages}</i>" if view.pages > 1 else ""
    text, _ = fit(parts, head, footer, limit=TELEGRAM_LIMIT - 50)
    return text
