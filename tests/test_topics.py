"""Broad questions get their section and its promises; a named document is honoured; a
question about Ap reads the current programme first. On the real corpus and index."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.render_text import render
from bot.views import AnswerPage, SectionView

ELDRE = ("Del 2: Bedre velferd i hele landet", "Eldre og seniorer")


def test_a_broad_question_is_answered_with_its_section(retriever):
    result = retriever.search("Hva vil Ap gjøre for eldre?", k=10)
    t = result.topic
    assert t is not None and t.section.path == ELDRE and t.section.doc.id == "ap-program-2025-2029"
    assert result.confidence == "high"
    # its opening: quoted, or, when it ranks among the passages shown, shown once as one of them
    assert (t.opening or t.shown[0].text).startswith("Å være sjef i eget liv er grunnlaget")
    assert not (t.opening and t.opening_chunk in t.shown[:3])
    assert len(t.promises) >= 30 and all(c.kind == "commitment" and c.section[:2] == ELDRE for c in t.promises)
    # the most relevant first: the shown passages lead with the section's best-ranked ones
    assert t.shown[0].section[:2] == ELDRE


@pytest.mark.parametrize(
    "question, title",
    [
        ("Hva er Ap sin politikk på helse?", "Én felles helsetjeneste"),
        ("Hva sier Ap om innvandring?", "Innvandring og integrering"),
        ("What is Ap's health policy?", "Én felles helsetjeneste"),
        ("Kva vil Ap gjere for eldre?", "Eldre og seniorer"),
        ("Hva er Ap sin skolepolitikk?", "En skole der alle kan lykkes og lik rett til utdanning"),
    ],
)
def test_broad_questions_in_three_languages_find_their_chapter(retriever, question, title):
    t = retriever.search(question, k=10).topic
    assert t is not None and t.section.path[-1] == title


@pytest.mark.parametrize(
    "question",
    ["Hvor mange nye boliger vil Ap få bygd?", "Vil Ap fjerne kontantstøtten?", "Hva mener Ap om KRLE-faget i skolen?"],
)
def test_a_specific_question_keeps_its_passages(retriever, question):
    assert retriever.search(question, k=10).topic is None


def test_a_named_document_is_honoured(retriever):
    result = retriever.search("Hva sier migrasjonsutvalget om barnehage?", k=5)
    assert not result.abstained and result.hits
    assert {h.chunk.doc_id for h in result.hits} == {"ap-migrasjonsutvalget"}
    plan = retriever.search("Hva står i handlingsplanen om økonomisk kriminalitet?", k=5)
    assert {h.chunk.doc_id for h in plan.hits} == {"jd-trygghet-i-hverdagen-2023"}
    oslo = retriever.search("Hva sier Oslo Ap om forebygging?", k=5)
    assert {h.chunk.doc_id for h in oslo.hits} == {"oslo-ap-trygghet-for-alle"}


def test_the_programme_is_read_first_and_its_silence_is_said(retriever):
    result = retriever.search("Vil Ap fjerne kontantstøtten?", k=5)
    note = result.scope_note
    assert note is not None and note.kind == "programme_silent" and note.term == "kontantstøtten"
    assert note.doc_title == "Arbeiderpartiets program 2025–2029"
    # the programme's promise comes first, before the section's introduction that scores
    # a little higher («Alle barnehagebarn skal oppleve gode barnehager …»)
    hits = retriever.search("Hva vil Ap gjøre med barnehageprisen?", k=5).hits
    assert hits[0].chunk.text == "holde barnehageprisen lav" and hits[0].chunk.kind == "commitment"


async def test_the_chat_shows_the_section_its_promises_and_a_way_to_all_of_them(services):
    engine = services.engine
    view = await engine.ask("Hva vil Ap gjøre for eldre?")
    assert isinstance(view, AnswerPage) and view.topic is not None and view.confidence == "high"
    text = render(view)
    assert "📂 Arbeiderpartiets program 2025–2029 › Del 2: Bedre velferd i hele landet › Eldre og seniorer" in text
    assert "løfter i avsnittet, de mest relevante først" in text
    assert "Dette er det nærmeste jeg fant" not in text
    button = next(x for row in view.buttons for x in row if x.label.startswith("📋 Alle"))
    assert f"Alle {view.topic.promises} løfter" in button.label
    every = await engine.press_data(button.data.pack(), "")
    assert isinstance(every, SectionView) and every.path == ELDRE and every.pages >= 6
    assert all(p.chunk.kind == "commitment" and p.chunk.section[:2] == ELDRE for p in every.passages)
    # «Mer fra samme tema» opens the chapter, not «Habilitering/rehabilitering»
    same = next(x for row in view.buttons for x in row if "Mer fra samme tema" in x.label)
    chapter = await engine.press_data(same.data.pack(), "")
    assert isinstance(chapter, SectionView) and chapter.path == ELDRE and chapter.subsections >= 4


async def test_the_chat_says_when_the_programme_is_silent(services):
    view = await services.engine.ask("Vil Ap fjerne kontantstøtten?")
    assert render(view).startswith("Programmet 2025–2029 nevner ikke kontantstøtten. Dette sier de andre dokumentene:")


def test_search_json_carries_the_topic(built_index):
    env_args = ["--index-dir", str(built_index[0])]
    out = subprocess.run([sys.executable, "-m", "bot.cli", *env_args, "search", "Hva sier Ap om barnevernet?", "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    topic = json.loads(out.stdout)["topic"]
    assert topic["path"][-1] == "Barnevern: trygg og god omsorg for alle barn" and topic["doc_id"] == "ap-program-2025-2029"
    assert topic["promises_total"] >= 10 and topic["promises"] and topic["opening"]
