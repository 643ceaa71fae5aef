"""Plain-text rendering of the engine's views, for the terminal chat and the CLI."""
from __future__ import annotations

from functools import singledispatch

from .views import AnswerPage, CheckView, Citation, CompareView, ContextView, DocumentList, Message, NotCovered, Passage, SectionView, View
from . import wording as w


def citation(c: Citation) -> str:
    return " · ".join(p for p in (c.title, c.section, c.source) if p)


def passage(p: Passage) -> str:
    text = f"{p.chunk.lead_in} … {p.chunk.text}" if p.chunk.lead_in else p.chunk.text
    return f"{p.number}. «{text}»\n   — {citation(p.citation)}"


@singledispatch
def render(view: View) -> str:
    raise TypeError(f"no plain-text rendering for {type(view).__name__}")


@render.register
def _(view: AnswerPage) -> str:
    head = [view.note] if view.note else []
    if view.missing and view.page == 0:
        head.append(w.missing_line(view.missing, view.confidence))
    elif view.confidence == "low" and view.page == 0:
        head.append(w.CAVEAT)
    if line := w.reason_line(view.reason, answered=True):
        head.append(line)
    if view.scope_line:
        head.append(view.scope_line)
    if view.scope:
        head.append(f"({w.SEARCHED_IN}: {view.scope})")
    tail = []
    if view.topic is not None:
        t = view.topic
        head.append(f"📂 {' › '.join((t.doc_title,) + t.path)}")
        if t.opening:
            head.append(f"«{t.opening}»")
        head.append(w.topic_promises(t.promises))
        if t.related:
            tail.append(f"{w.TOPIC_RELATED} " + "; ".join(t.related) + ".")
    return "\n\n".join(head + [passage(p) for p in view.passages] + tail)


@render.register
def _(view: NotCovered) -> str:
    where = f" ({w.SEARCHED_IN.lower()}: {view.scope})" if view.scope else ""
    parts = [view.note] if view.note else []
    if view.missing:
        parts.append(w.missing_line(view.missing, None))
    parts.append(f"{w.NOT_COVERED}{where}.")
    if line := w.reason_line(view.reason, answered=False):
        parts.append(line)
    if view.topics:
        parts.append(f"{w.NOT_COVERED_NEAREST} " + "; ".join(view.topics) + ".")
    parts.append(view.tip or (w.NOT_COVERED_TIP_FILTERED if view.scope else w.NOT_COVERED_TIP))
    return "\n\n".join(parts)


@render.register
def _(view: ContextView) -> str:
    lines = ["Sammenheng:"]
    for c in view.chunks:
        text = f"{c.lead_in} … {c.text}" if c.lead_in else c.text
        lines.append(("» " if c.id == view.target else "  ") + text)
    if view.citation:
        lines.append("— " + citation(view.citation))
    return "\n\n".join(lines)


@render.register
def _(view: DocumentList) -> str:
    lines = ["Dokumentene jeg svarer fra:"]
    for d in view.docs:
        c = Citation.of(d)
        lines.append(f"• {d.title} — {c.source} · {d.chunks} avsnitt [{d.id}]")
    return "\n".join(lines)


@render.register
def _(view: Message) -> str:
    parts = [p for p in (view.title, view.text) if p]
    out = "\n".join(parts)
    if view.lines:
        out += ("\n" if out else "") + "\n".join(f"• {line}" for line in view.lines)
    return out


@render.register
def _(view: CheckView) -> str:
    parts = [f"Påstand: «{view.claim}»", w.check_verdict(view.verdict, view.words, view.scope, view.doc, view.programme)]
    for p in view.promises:
        parts.append(passage(p) + (f"\n   {w.hedge_note(view.hedges[p.number])}" if p.number in view.hedges else ""))
    if view.qualifiers:
        parts.append(w.CHECK_QUALIFIES)
        parts += [passage(p) for p in view.qualifiers]
    return "\n\n".join(parts)


@render.register
def _(view: CompareView) -> str:
    parts = [f"Hva dokumentene sier om «{view.topic}»:"] + [passage(p) for p in view.passages]
    if view.missing:
        parts.append(f"{w.COMPARE_MISSING} " + "; ".join(view.missing) + ".")
    return "\n\n".join(parts)


@render.register
def _(view: SectionView) -> str:
    crumbs = " › ".join((view.doc_title,) + view.path)
    parts = [crumbs]
    if view.subsections:
        parts.append(f"{view.subsections} underkapitler.")
    parts += [passage(p) for p in view.passages]
    if view.pages > 1:
        parts.append(f"Side {view.page + 1} av {view.pages}.")
    return "\n\n".join(parts)
