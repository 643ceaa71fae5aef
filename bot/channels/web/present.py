"""The engine's views as plain data: the JSON API's bodies, and what the page's templates
render (one conversion, two outputs, so the page and the API never disagree). Field names
are stable; docs/web.md documents them (a test keeps it true)."""
from __future__ import annotations

from functools import singledispatch

from index.chunk import Chunk

from ... import wording as w
from ...views import AnswerPage, Button, CheckView, Citation, CompareView, ContextView, DocumentList, Message, NotCovered, Passage, SectionView, View

# How a button's answer is shown on the page: in place of the view it belongs to when it
# is the same kind of view ("replace": the next page, the filter menu, /tema browsing),
# below it ("append"), only as a short notice ("notice"), or by moving to the page's
# /sjekk field ("check").
DELIVERY = {"p": "replace", "fd": "replace", "fa": "replace", "fc": "replace", "t": "replace", "tp": "replace", "x": "append", "sj": "check", "v": "notice"}


def permalink(token: str) -> str:
    return f"/svar/{token}" if token else ""


def citation(c: Citation | None) -> dict:
    if c is None:
        return {}
    return {
        "title": c.title,
        "section": c.section,
        "publisher": c.publisher,
        "year": c.year,
        "url": c.url,
        "text": " · ".join(p for p in (c.title, c.section, c.source) if p),
    }


def _highlight(chunk: Chunk, highlight: tuple[str, ...]) -> str:
    return next((s for s in highlight if s and s != chunk.text and s in chunk.text), "")


def passage(p: Passage, hedge: str = "") -> dict:
    out = {
        "number": p.number,
        "text": p.chunk.text,
        "lead_in": p.chunk.lead_in,
        "highlight": _highlight(p.chunk, p.highlight),
        "citation": citation(p.citation),
        "chunk": p.chunk.id.rsplit("#", 1)[-1],
        "hedge": w.hedge_note(hedge) if hedge else "",
    }
    return out


def buttons(rows: list[list[Button]], token: str = "") -> list[list[dict]]:
    out = []
    for row in rows:
        items = []
        for b in row:
            if b.data is not None:
                items.append({"label": b.label, "data": b.data.pack(), "delivery": DELIVERY.get(b.data.prefix, "append")})
            elif b.share is not None and token:
                items.append({"label": w.LINK_TO_ANSWER, "href": permalink(token)})
        if items:
            out.append(items)
    return out


@singledispatch
def to_data(view: View) -> dict:
    raise TypeError(f"no web data for {type(view).__name__}")


def _base(view: View, kind: str, token: str = "") -> dict:
    return {"kind": kind, "buttons": buttons(view.buttons, token), "notice": view.notice}


@to_data.register
def _(view: AnswerPage) -> dict:
    return _base(view, "answer", view.token) | {
        "question": view.question,
        "token": view.token,
        "permalink": permalink(view.token),
        "page": view.page,
        "confidence": view.confidence,
        # a key term the documents never write is named before anything else (it carries the caveat's meaning)
        "missing": w.missing_line(view.missing, view.confidence) if view.missing and view.page == 0 else "",
        "caveat": w.CAVEAT if view.confidence == "low" and view.page == 0 and not view.missing else "",
        "reason": w.reason_line(view.reason, answered=True),
        "note": view.note,
        "scope": view.scope,
        "scope_line": view.scope_line,
        "topic": None
        if view.topic is None
        else {
            "path": " › ".join((view.topic.doc_title,) + view.topic.path),
            "opening": view.topic.opening,
            "promises": view.topic.promises,
            "promises_text": w.topic_promises(view.topic.promises),
            "related": list(view.topic.related),
            "related_text": w.TOPIC_RELATED,
        },
        "passages": [passage(p) for p in view.passages],
    }


@to_data.register
def _(view: NotCovered) -> dict:
    where = f" ({w.SEARCHED_IN.lower()}: {view.scope})" if view.scope else ""
    return _base(view, "not_covered") | {
        "question": view.question,
        "missing": w.missing_line(view.missing, None) if view.missing else "",
        "text": f"{w.NOT_COVERED}{where}.",
        "reason": w.reason_line(view.reason, answered=False),
        "topics": list(view.topics),
        "topics_text": w.NOT_COVERED_NEAREST if view.topics else "",
        "tip": w.WEB_NOT_COVERED_TIP_FILTERED if view.scope else w.WEB_NOT_COVERED_TIP,
        "note": view.note,
        "scope": view.scope,
    }


@to_data.register
def _(view: CheckView) -> dict:
    return _base(view, "check", view.token) | {
        "claim": view.claim,
        "found": view.verdict == "match",
        "verdict": view.verdict,
        "heading": w.check_verdict(view.verdict, view.words, view.scope, view.doc, view.programme),
        "token": view.token,
        "permalink": permalink(view.token),
        "passages": [passage(p, view.hedges.get(p.number, "")) for p in view.promises],
        "qualifiers_text": w.CHECK_QUALIFIES if view.qualifiers else "",
        "qualifiers": [passage(p) for p in view.qualifiers],
    }


@to_data.register
def _(view: CompareView) -> dict:
    return _base(view, "compare", view.token) | {
        "topic": view.topic,
        "heading": w.compare_heading(view.topic),
        "token": view.token,
        "permalink": permalink(view.token),
        "passages": [passage(p) for p in view.passages],
        "missing_text": w.COMPARE_MISSING if view.missing else "",
        "missing": list(view.missing),
    }


@to_data.register
def _(view: ContextView) -> dict:
    return _base(view, "context") | {
        "heading": w.CONTEXT,
        "target": view.target.rsplit("#", 1)[-1],
        "passages": [{"text": c.text, "lead_in": c.lead_in, "target": c.id == view.target} for c in view.chunks],
        "citation": citation(view.citation),
    }


@to_data.register
def _(view: DocumentList) -> dict:
    docs = []
    for d in view.docs:
        c = Citation.of(d)
        docs.append({"id": d.id, "title": d.title, "publisher": d.publisher, "year": c.year, "source": c.source, "passages": d.chunks, "url": d.url})
    return _base(view, "documents") | {"heading": w.DOCUMENTS_HEADING, "documents": docs}


@to_data.register
def _(view: Message) -> dict:
    return _base(view, "message") | {"title": view.title, "text": view.text, "lines": list(view.lines), "expired": view.expired}


@to_data.register
def _(view: SectionView) -> dict:
    return _base(view, "section") | {
        "heading": " › ".join((view.doc_title,) + view.path),
        "document": view.doc_title,
        "path": list(view.path),
        "subsections": view.subsections,
        "page": view.page,
        "pages": view.pages,
        "passages": [passage(p) for p in view.passages],
    }
