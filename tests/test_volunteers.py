"""For volunteers and members, on the real corpus: /sjekk, /sammenlign, /tema, through the
engine and through python-telegram-bot against the stand-in Bot API."""
from __future__ import annotations

from bot import buttons as b
from bot.render_text import render
from bot.views import CheckView, CompareView, Message, SectionView

from .test_telegram import _as_message, _button, bot  # noqa: F401 - the fixture


async def test_check_a_true_claim_leads_with_the_promise(services):
    view = await services.engine.check("Ap vil garantere at sykelønnen ikke kuttes")
    assert isinstance(view, CheckView) and view.verdict == "match"
    assert view.promises[0].chunk.text == "garantere for at sykelønnen ikke kuttes"
    text = render(view)
    assert "Ja, dette står i «Arbeiderpartiets program 2025–2029»:" in text and "vil: … garantere for at sykelønnen" in text  # the lead-in, verbatim


async def test_check_a_half_true_claim_shows_the_hedge(services):
    view = await services.engine.check("Ap vil bygge kjernekraftverk i Norge")
    assert isinstance(view, CheckView) and view.verdict == "weaker" and view.words == ("utrede",)
    assert view.promises[0].chunk.text == "utrede fremtidig produksjon av kjernekraft i Norge"
    assert view.hedges[1] == "utrede"
    assert "Merk: formulert som «utrede»" in render(view)


async def test_check_an_unsupported_claim_says_so_and_shows_the_nearest(services):
    view = await services.engine.check("Ap vil innføre rushtidsavgift i alle byer")
    assert isinstance(view, CheckView) and view.verdict == "absent" and view.promises
    assert "Ingen av dokumentene sier dette. Det nærmeste løftet i «Arbeiderpartiets program 2025–2029»:" in render(view)


async def test_compare_shows_each_covering_document_once_and_names_the_rest(services):
    view = await services.engine.compare("politikontakt")
    assert isinstance(view, CompareView)
    docs = [p.chunk.doc_id for p in view.passages]
    assert {"jd-trygghet-i-hverdagen-2023", "pod-veileder-kommune-politi"} <= set(docs)
    assert len(docs) == len(set(docs))
    assert view.missing and "Ikke omtalt i:" in render(view)
    order = list(services.retriever.docs)
    assert docs == sorted(docs, key=order.index)  # a fixed order: the manifest's
    # "Sammenheng" for every passage
    assert len(view.buttons[0]) == len(view.passages)


async def test_tema_reaches_a_named_sections_commitments_in_four_taps(services):
    engine = services.engine
    view = engine.topics()
    assert isinstance(view, Message)

    def tap(view, label):
        button = next(x for row in view.buttons for x in row if label in x.label)
        data = button.data.pack()
        assert len(data.encode()) <= 64
        return data

    v1 = await engine.press_data(tap(view, "Arbeiderpartiets program"), "")  # tap 1: the document
    v2 = await engine.press_data(tap(v1, "Del 2: Bedre velferd"), "")  # tap 2: the part
    v2 = await engine.press_data(tap(v2, "En skole der alle kan lykkes"), "")  # tap 3: the chapter
    v3 = await engine.press_data(tap(v2, "Skolereform: Innføre heldagsskole"), "")  # tap 4: the section
    assert isinstance(v3, SectionView) and v3.path[-1] == "Skolereform: Innføre heldagsskole for de yngste"
    assert any(p.chunk.kind == "commitment" for p in v3.passages)
    back = await engine.press_data(tap(v3, "Tilbake"), "")
    assert isinstance(back, SectionView) and back.path == ("Del 2: Bedre velferd i hele landet", "En skole der alle kan lykkes og lik rett til utdanning")


async def test_an_answer_offers_more_from_the_same_topic(services):
    view = await services.engine.ask("Vil Ap fjerne kontantstøtten?")
    data = next(x.data for row in view.buttons for x in row if "Mer fra samme tema" in x.label)
    section = await services.engine.press_data(data.pack(), "")
    assert isinstance(section, SectionView)
    # the passage's own chapter: «1. Forebygging i alle ledd», not only «… › Barnehage og tidlig innsats»
    assert section.path == view.passages[0].chunk.section[:1] == ("1. Forebygging i alle ledd",)


# --- through Telegram ----------------------------------------------------------------------------


async def test_new_commands_and_buttons_through_telegram(bot):
    sent = await bot.ask("/sjekk Ap vil bygge kjernekraftverk i Norge")
    assert "utrede fremtidig produksjon av kjernekraft" in sent["text"] and "formulert som «utrede»" in sent["text"]
    sent = await bot.ask("/sjekk")
    assert "Skriv /sjekk og påstanden" in sent["text"]
    sent = await bot.ask("/sammenlign politikontakt")
    assert "Ikke omtalt i:" in sent["text"] and "Politikontakten" in sent["text"]
    sent = await bot.ask("/tema")
    bot.api.push_callback(_button(sent, "Arbeiderpartiets program"), _as_message(sent, 801))
    (edit,) = await bot.api.wait_for("editMessageText", 1)
    assert "Del 2: Bedre velferd" in str(edit.params["reply_markup"])
    answer = await bot.ask("Vil Ap fjerne kontantstøtten?")
    bot.api.push_callback(_button(answer, "🗂 Mer fra samme tema"), _as_message(answer, 802))
    edits = await bot.api.wait_for("editMessageText", 2)
    assert "1. Forebygging i alle ledd" in edits[1].params["text"]  # the passage's chapter
    before = len(bot.api.calls_of("sendMessage"))
    bot.api.push_callback(_button(answer, "✅ Sjekk et løfte"), _as_message(answer, 803))
    calls = await bot.api.wait_for("sendMessage", before + 1)
    assert "/sjekk" in calls[before].params["text"]
    bot.api.push_inline("sjekk Ap vil bygge kjernekraftverk")
    (inline,) = await bot.api.wait_for("answerInlineQuery")
    results = inline.params["results"]
    assert results and results[0]["title"].startswith("⚠️ utrede")
    assert "kjernekraft" in results[0]["input_message_content"]["message_text"]
    assert b.unpack(_button(sent, "Arbeiderpartiets program")) is not None
