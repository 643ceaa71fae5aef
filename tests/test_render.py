"""Both renderers, directly on hand-built view models (no index, no model: milliseconds),
and the typed button data."""
from __future__ import annotations

import pytest

from bot import buttons as b
from bot import render_html, render_text
from bot.views import AnswerPage, Button, Citation, ContextView, DocumentList, Message, NotCovered, Passage
from index.chunk import Chunk
from retrieval.models import DocInfo

from .test_telegram import assert_valid_html

DOC = DocInfo(id="plan", title="Plan <for> alle", publisher="Testpartiet & co", kind="program", year="2025", inferred=("year",), url="")


def _chunk(n: int, text: str, lead: str = "Testpartiet vil:") -> Chunk:
    return Chunk(id=f"plan#{n:04x}", doc_id="plan", ordinal=n, section=("1. Skole", "Skolemat"), kind="commitment", text=text, start=0, end=len(text), lead_in=lead)


def _page(texts: list[str], **kw) -> AnswerPage:
    passages = [Passage(n, _chunk(n, t), Citation.of(DOC, _chunk(n, t)), ()) for n, t in enumerate(texts, 1)]
    return AnswerPage(question="skolemat?", passages=passages, token="tok", **kw)


def test_one_citation_format_in_both_media():
    c = Citation.of(DOC, _chunk(1, "x"))
    assert c.source == "Testpartiet & co, 2025 (antatt)"
    assert render_text.citation(c) == "Plan <for> alle · 1. Skole › Skolemat · Testpartiet & co, 2025 (antatt)"
    assert render_html.citation(c) == "📄 <i>Plan &lt;for&gt; alle</i> · 1. Skole › Skolemat · Testpartiet &amp; co, 2025 (antatt)"


def test_answer_page_quotes_verbatim_with_lead_in_and_caveat():
    view = _page(["gi alle elever <gratis> skolemat"], confidence="low")
    text = render_text.render(view)
    assert "1. «Testpartiet vil: … gi alle elever <gratis> skolemat»" in text
    assert text.startswith("Dette er det nærmeste jeg fant")
    html = render_html.render(view)
    assert "<blockquote><i>Testpartiet vil:</i> … gi alle elever &lt;gratis&gt; skolemat</blockquote>" in html
    assert "Dette er det nærmeste jeg fant" in html
    assert_valid_html(html)
    assert "nærmeste" not in render_text.render(_page(["x"], confidence="high"))


def test_long_passages_stay_within_telegrams_limit():
    view = _page(["ord " * 600] * 3, note="Spørsmålet var langt")
    html = render_html.render(view)
    assert len(html) <= 4096 and html.count("<blockquote>") == 3
    assert_valid_html(html)


def test_not_covered_names_the_nearest_topics_and_the_scope():
    view = NotCovered(question="q", topics=["Skolemat", "Helse"], scope="bare løfter")
    text = render_text.render(view)
    assert "Jeg fant ikke noe om dette i dokumentene (søkte i: bare løfter)." in text
    assert "Skolemat; Helse" in text and "/nullstill" in text
    html = render_html.render(view)
    assert "<i>Skolemat</i>; <i>Helse</i>" in html
    assert_valid_html(html)


def test_context_marks_the_passage_and_documents_list_the_sources():
    chunks = [_chunk(1, "før"), _chunk(2, "midt"), _chunk(3, "etter")]
    view = ContextView(target=chunks[1].id, chunks=chunks, citation=Citation.of(DOC, chunks[1]))
    assert "» Testpartiet vil: … midt" in render_text.render(view)
    assert_valid_html(render_html.render(view))
    docs = render_text.render(DocumentList(docs=[DOC]))
    assert "Plan <for> alle — Testpartiet & co, 2025 (antatt)" in docs
    assert_valid_html(render_html.render(Message(title="T<", text="a & b", lines=["x"])))


def test_button_data_round_trips_and_stays_within_64_bytes():
    for data in (b.More("AbC_-1", 3), b.Context("0f3a9c"), b.Vote("tok", False), b.FilterDoc("abcdef0123"), b.FilterAll(), b.FilterCommitments()):
        packed = data.pack()
        assert len(packed.encode()) <= 64 and b.unpack(packed) == data
        assert type(b.unpack(packed)) is type(data)
    with pytest.raises(b.ButtonDataError):
        b.More("x" * 70, 1).pack()
    with pytest.raises(b.ButtonDataError):
        b.More("a:b", 1).pack()
    for forged in ("", "p:x", "p:x:y", "v:t:2", "zz:1", "p:" + "x" * 80 + ":1", None):
        assert b.unpack(forged) is None


def test_a_button_view_carries_typed_data():
    view = Message(text="x", buttons=[[Button("Vis flere", b.More("t", 1)), Button("Del", share="q")]])
    assert view.buttons[0][0].data.pack() == "p:t:1"
