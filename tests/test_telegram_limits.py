"""Telegram's limits (issue 22 #7): the stand-in Bot API refuses what Telegram refuses,
and nothing the bot sends is refused, even from a document with a 4,000-character lead-in,
a 300-character title and a 300-character publisher."""
from __future__ import annotations

import pytest

from index.manifest import Corpus, Document
from index.store import build_index

from .fake_bot_api import BOT_USER, FakeBotAPI
from .test_telegram import TOKEN, _button, start_bot, stop_bot

LONG_TITLE = "Fritidsplanen " + " ".join(["for barn, unge og familier i hele landet"] * 7)
LONG_PUBLISHER = "Testpartiet " + " ".join(["avdeling for fritid og idrett"] * 10)
LEAD_IN = "Testpartiet vil " + " ".join(["styrke fritidstilbudet for barn og unge i hele landet"] * 75) + ":"
TEXT = (
    "Fritid for alle\n\n1. Fritid og idrett\n\n"
    + "Alle barn skal ha råd til en fritidsaktivitet de liker, uansett hva foreldrene tjener. " * 6
    + "\n\n"
    + LEAD_IN
    + "\n\n• innføre et nasjonalt fritidskort på 5000 kroner i året\n• bygge flere svømmehaller i distriktene\n"
    + "• gi alle idrettslag gratis tilgang til kommunale haller\n"
)


def test_the_stand_in_refuses_what_telegram_refuses():
    api = FakeBotAPI(TOKEN)
    html = "<b>" + "a" * 4090 + "</b> &amp; ok"  # 4,095 after parsing: allowed
    assert api.refusal("sendMessage", {"text": html, "parse_mode": "HTML"}) is None
    assert api.refusal("sendMessage", {"text": "a" * 4097}) == "message is too long"
    assert api.refusal("sendMessage", {"text": "😀" * 2049}) == "message is too long"  # UTF-16 units
    assert api.refusal("sendMessage", {"text": " "}) == "message text is empty"
    assert api.refusal("sendPhoto", {"caption": "a" * 1025}) == "message caption is too long"
    assert api.refusal("answerCallbackQuery", {"text": "a" * 201}) == "MESSAGE_TOO_LONG"
    assert api.refusal("answerCallbackQuery", {"text": "a" * 200}) is None
    keyboard = {"inline_keyboard": [[{"text": "x", "callback_data": "d" * 65}]]}
    assert api.refusal("sendMessage", {"text": "hei", "reply_markup": keyboard}) == "BUTTON_DATA_INVALID"
    results = [{"type": "article", "id": str(i), "title": "t", "input_message_content": {"message_text": "x"}} for i in range(51)]
    assert api.refusal("answerInlineQuery", {"results": results}) == "RESULTS_TOO_MUCH"
    assert api.refusal("answerInlineQuery", {"results": results[:2] + results[:1]}) == "RESULT_ID_DUPLICATE"
    long_content = [{"type": "article", "id": "1", "title": "t", "input_message_content": {"message_text": "a" * 4097}}]
    assert api.refusal("answerInlineQuery", {"results": long_content}) == "MESSAGE_TOO_LONG"


@pytest.fixture(scope="module")
def long_retriever(tmp_path_factory, embedder):
    from retrieval.search import Retriever

    root = tmp_path_factory.mktemp("long-corpus")
    (root / "fritid.txt").write_text(TEXT, encoding="utf-8")
    doc = Document(id="fritidsplan", file="fritid.txt", title=LONG_TITLE, publisher=LONG_PUBLISHER, kind="program", year="2025")
    corpus = Corpus(root=root, documents=[doc])
    build_index(corpus, root / "index", embedder)
    return Retriever.open(root / "index", embedder)


def _message(sent: dict, message_id: int = 900) -> dict:
    return {"message_id": message_id, "date": 0, "chat": {"id": int(sent["chat_id"]), "type": "private"}, "from": BOT_USER, "text": sent["text"]}


async def test_nothing_the_bot_sends_from_a_document_with_long_fields_is_refused(tmp_path, long_retriever):
    assert len(LEAD_IN) > 4000 and len(LONG_TITLE) >= 300 and len(LONG_PUBLISHER) >= 300
    h = await start_bot(tmp_path, long_retriever)
    api = h.api
    try:
        answer = await h.ask("nasjonalt fritidskort på 5000 kroner")
        assert "fritidskort" in answer["text"]
        sent = len(api.calls_of("sendMessage"))
        api.push_callback(_button(answer, "📖 Sammenheng"), _message(answer))
        await api.wait_for("sendMessage", sent + 1)  # the context arrives as a new message
        for text in ("/sjekk innføre et nasjonalt fritidskort på 5000 kroner", "/sammenlign svømmehaller i distriktene", "/dokumenter", "/tema"):
            await h.ask(text)
        menu = await h.ask("/filter")
        api.push_callback(_button(menu, "Fritidsplanen"), _message(menu, 901))
        await api.wait_for("answerCallbackQuery", 2)
        scoped = await h.ask("svømmehaller i distriktene")  # the header names the filter: the long title
        assert "svømmehaller" in scoped["text"] and "Fritidsplanen for barn" in scoped["text"]
        api.push_inline("svømmehaller i distriktene")
        api.push_inline("sjekk bygge flere svømmehaller i distriktene")
        await api.wait_for("answerInlineQuery", 2)
    finally:
        await stop_bot(h)
    refused = [(c.method, c.status) for c in api.calls if c.status == 400]
    assert not refused, refused
    sent = api.calls_of("sendMessage") + api.calls_of("editMessageText")
    assert max(api.visible_length(c.params["text"], c.params.get("parse_mode")) for c in sent) <= 4096
    toasts = [c.params.get("text") or "" for c in api.calls_of("answerCallbackQuery")]
    assert any("Fritidsplanen" in t for t in toasts) and all(len(t) <= 200 for t in toasts)
    results = [r for c in api.calls_of("answerInlineQuery") for r in c.params["results"]]
    assert results and all(len(r["input_message_content"]["message_text"]) <= 4096 for r in results)
