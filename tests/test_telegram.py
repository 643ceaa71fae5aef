"""The real python-telegram-bot Application against a stand-in Bot API on 127.0.0.1.

Every assertion is about the Bot API calls the bot actually made over HTTP."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import sqlite3
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from bot.services import build_services
from bot.settings import Settings
from bot.channels.telegram import TelegramChannel

from .fake_bot_api import BOT_USER, FakeBotAPI, Faults

TOKEN = "123456789:AAHfake-test-token-abcdefghijklmnopq"
ALLOWED_TAGS = {"b", "i", "a", "blockquote", "u", "s", "code", "pre"}


class TelegramHTML(HTMLParser):
    """Fails on tags Telegram does not accept and on unbalanced markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")


def assert_valid_html(text: str) -> None:
    p = TelegramHTML()
    p.feed(text)
    p.close()
    assert not p.errors and not p.stack, (p.errors, p.stack, text[:300])


class BotHarness:
    def __init__(self, api: FakeBotAPI, app, services) -> None:
        self.api, self.app, self.services = api, app, services
        self.engine = services.engine

    async def ask(self, text: str, **kw) -> dict:
        before = len(self.api.calls_of("sendMessage"))
        self.api.push_text(text, **kw)
        calls = await self.api.wait_for("sendMessage", before + 1)
        return calls[before].params


async def start_bot(tmp_path, retriever, faults: Faults | None = None, **settings_kw):
    api = FakeBotAPI(TOKEN, faults)
    await api.start()
    settings = Settings(
        telegram_token=TOKEN,
        telegram_api_url=api.base_url,
        data_dir=tmp_path,
        admin_ids=[999],
        rate_limit_per_minute=settings_kw.pop("rate_limit_per_minute", 100),
        **settings_kw,
    )
    services = build_services(settings, retriever)
    await services.open()
    channel = TelegramChannel(services)
    await channel.start(poll_interval=0.0, timeout=1)
    h = BotHarness(api, channel.application, services)
    h.channel = channel
    return h


async def stop_bot(h: BotHarness) -> None:
    await h.channel.stop()
    await h.services.close()
    await h.api.stop()


@pytest.fixture
async def bot(tmp_path, retriever, built_index):
    h = await start_bot(tmp_path, retriever, index_dir=built_index[0])
    yield h
    await stop_bot(h)
    for c in h.api.calls_of("sendMessage") + h.api.calls_of("editMessageText"):
        text = c.params["text"]
        assert len(text) <= 4096
        if c.params.get("parse_mode") == "HTML":
            assert_valid_html(text)


async def test_start_registers_norwegian_commands_and_welcomes(bot):
    (cmds,) = bot.api.calls_of("setMyCommands")
    names = [c["command"] for c in cmds.params["commands"]]
    assert {"start", "hjelp", "dokumenter", "filter", "lofter"} <= set(names)
    sent = await bot.ask("/start")
    assert "Hei!" in sent["text"] and "Vil Ap fjerne kontantstøtten?" in sent["text"]


async def test_question_gets_passage_citation_and_buttons(bot):
    sent = await bot.ask("Vil Ap fjerne kontantstøtten?")
    assert sent["parse_mode"] == "HTML"
    text = sent["text"]
    assert "fjerne kontantstøtten og bruke pengene på billigere barnehage" in text
    assert "Trygghet for alle – kampen mot organisert kriminalitet og utenforskap" in text
    assert "Oslo Arbeiderparti (partistyret)" in text and "<blockquote>" in text
    buttons = [b for row in sent["reply_markup"]["inline_keyboard"] for b in row]
    labels = [b["text"] for b in buttons]
    assert "👍" in labels and "👎" in labels  # "Vis flere" only when there are more: see below
    assert any(lbl.startswith("📖 Sammenheng") for lbl in labels)
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons if "callback_data" in b)


def _button(sent: dict, label: str) -> str:
    for row in sent["reply_markup"]["inline_keyboard"]:
        for b in row:
            if b["text"].startswith(label):
                return b["callback_data"]
    raise AssertionError(f"no button {label}")


def _as_message(sent: dict, message_id: int = 777) -> dict:
    return {"message_id": message_id, "date": 0, "chat": {"id": int(sent["chat_id"]), "type": "private"}, "from": BOT_USER, "text": sent["text"]}


async def test_vis_flere_edits_the_message_with_the_next_results(bot):
    sent = await bot.ask("Hva vil dere gjøre for politiet?")
    bot.api.push_callback(_button(sent, "Vis flere"), _as_message(sent, 777))
    (edit,) = await bot.api.wait_for("editMessageText")
    assert int(edit.params["message_id"]) == 777
    assert "<b>4.</b>" in edit.params["text"] and "<b>1.</b>" not in edit.params["text"]
    assert await bot.api.wait_for("answerCallbackQuery")


async def test_context_button_sends_the_surrounding_text(bot):
    sent = await bot.ask("Vil Ap fjerne kontantstøtten?")
    before = len(bot.api.calls_of("sendMessage"))
    bot.api.push_callback(_button(sent, "📖 Sammenheng 1"), _as_message(sent))
    calls = await bot.api.wait_for("sendMessage", before + 1)
    text = calls[before].params["text"]
    assert "Sammenheng" in text and "øke bemanningen i barnehager i levekårsutsatte områder" in text


async def test_vote_is_stored_with_a_hashed_user_id(bot, tmp_path):
    sent = await bot.ask("Hva er heldagsskole?")
    bot.api.push_callback(_button(sent, "👎"), _as_message(sent), user_id=555)
    (ack,) = await bot.api.wait_for("answerCallbackQuery")
    assert "Takk" in ack.params.get("text", "")
    rows = sqlite3.connect(tmp_path / "state.sqlite").execute(
        "SELECT v.vote, v.user_hash, a.question, a.passages FROM votes v JOIN answers a USING (token)"
    ).fetchall()
    assert len(rows) == 1
    vote, user_hash, question, passages = rows[0]
    assert vote == 0 and question == "Hva er heldagsskole?" and "ap-program-2025-2029#" in passages
    # Pseudonymous: neither the id nor its unsalted digest, but the HMAC under this data
    # directory's own salt. (A substring check on "555" fails by chance on a random salt.)
    salt = (tmp_path / "salt").read_bytes()
    assert user_hash != "555" and user_hash not in hashlib.sha256(b"555").hexdigest()
    assert user_hash == hmac.new(salt, b"555", hashlib.sha256).hexdigest()[:32]


async def test_expired_button_gets_a_polite_answer(bot):
    msg = {"message_id": 5, "date": 0, "chat": {"id": 100, "type": "private"}, "from": BOT_USER, "text": "gammelt svar"}
    bot.api.push_callback("p:gonegone:1", msg)
    bot.api.push_callback("v:gonegone:1", msg)
    bot.api.push_callback("complete-nonsense", msg)
    acks = await bot.api.wait_for("answerCallbackQuery", 3)
    assert all("utløpt" in a.params["text"] for a in acks)
    assert not bot.api.calls_of("editMessageText")


async def test_inline_query_offers_passages_with_citation(bot):
    bot.api.push_inline("kontantstøtten")
    (call,) = await bot.api.wait_for("answerInlineQuery")
    results = call.params["results"]
    assert results and all(r["type"] == "article" for r in results)
    content = results[0]["input_message_content"]
    assert "kontantstøtten" in content["message_text"].lower() and content["parse_mode"] == "HTML"
    assert "📄" in content["message_text"]
    for r in results:
        assert_valid_html(r["input_message_content"]["message_text"])


async def test_group_messages_are_ignored_unless_the_bot_is_addressed(bot):
    bot.api.push_text("Vil Ap fjerne kontantstøtten?", chat_id=-200, chat_type="group")
    await asyncio.sleep(1.0)
    assert not [c for c in bot.api.calls_of("sendMessage") if int(c.params["chat_id"]) == -200]
    sent = await bot.ask("@policy_test_bot Vil Ap fjerne kontantstøtten?", chat_id=-200, chat_type="group")
    assert int(sent["chat_id"]) == -200 and "kontantstøtten" in sent["text"]
    reply_to_bot = {"message_id": 1, "date": 0, "chat": {"id": -200, "type": "group"}, "from": BOT_USER, "text": "…"}
    sent = await bot.ask("Hva med turistskatt?", chat_id=-200, chat_type="group", reply_to=reply_to_bot)
    assert "besøksbidrag" in sent["text"]


async def test_odd_input_gets_sensible_replies(bot):
    sent = await bot.ask("/finnesikke")
    assert "kjenner jeg ikke" in sent["text"] and "/hjelp" in sent["text"]
    sent = await bot.ask("<script>alert(1)</script> *kontantstøtte* ?")
    assert "<script>" not in sent["text"]
    sent = await bot.ask("kontantstøtten " * 700)  # ~10,000 characters
    assert "langt" in sent["text"] and len(sent["text"]) <= 4096
    sent = await bot.ask("Hvem vant fotball-VM i 2022?")
    assert "Jeg fant ikke noe om dette i dokumentene" in sent["text"]
    # "not covered" for another party's policy says so: the volunteer must not read it as
    # "Ap has no policy on wealth tax"
    sent = await bot.ask("Hva mener Høyre om formuesskatten?")
    assert "Jeg fant ikke noe om dette i dokumentene" in sent["text"]
    assert "gjelder et annet parti" in sent["text"]
    before = len(bot.api.calls_of("sendMessage"))
    bot.api.push({"message": {"message_id": 9, "date": 0, "chat": {"id": 100, "type": "private"}, "from": {"id": 555, "is_bot": False, "first_name": "K"}, "sticker": {"file_id": "x", "file_unique_id": "y", "type": "regular", "width": 1, "height": 1, "is_animated": False, "is_video": False}}})
    calls = await bot.api.wait_for("sendMessage", before + 1)
    assert "bare tekst" in calls[before].params["text"]


async def test_filters_by_button_restrict_answers(bot):
    sent = await bot.ask("/filter")
    data = _button(sent, "Arbeiderpartiets migrasjonsutvalg")
    bot.api.push_callback(data, _as_message(sent))
    (edit,) = await bot.api.wait_for("editMessageText")
    assert "✅ Arbeiderpartiets migrasjonsutvalg" in str(edit.params["reply_markup"])
    sent = await bot.ask("kontantstøtten")
    assert "Søkte i" in sent["text"] and "Arbeiderpartiets migrasjonsutvalg" in sent["text"]
    assert "Oslo Arbeiderparti (partistyret)" not in sent["text"]
    sent = await bot.ask("/nullstill")
    sent = await bot.ask("/lofter")
    assert "bare løfter" in sent["text"]


async def test_admin_reload_swaps_the_index(tmp_path, retriever, built_index, embedder):
    """/oppdater says when nothing is new; after `index build` it swaps the new build in,
    says which document changed, and questions in flight meanwhile are all answered."""
    import shutil

    from corpus import BUILTIN_DIR
    from index.manifest import load_corpus
    from index.store import build_index

    index_dir = tmp_path / "index"
    shutil.copytree(built_index[0], index_dir)
    bot = await start_bot(tmp_path / "data", retriever, index_dir=index_dir)
    try:
        sent = await bot.ask("/oppdater", user_id=1)
        assert "administratorer" in sent["text"]
        sent = await bot.ask("/oppdater", user_id=999)
        assert sent["text"].startswith("Ingenting nytt") and retriever.build in sent["text"]

        corpus_dir = tmp_path / "corpus"
        shutil.copytree(BUILTIN_DIR, corpus_dir, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        doc = corpus_dir / "oslo-ap-trygghet-for-alle.txt"
        doc.write_text(doc.read_text(encoding="utf-8") + "\nEn ny setning om trygghet i parkene.\n", encoding="utf-8")
        new = build_index(load_corpus(corpus_dir), index_dir, embedder).build
        old = bot.engine.retriever
        before = len(bot.api.calls_of("sendMessage"))
        # questions in flight while the index is swapped are all answered
        for q in ("skole", "helse", "politi"):
            bot.api.push_text(q, user_id=3)
        bot.api.push_text("/oppdater", user_id=999)
        for q in ("bolig", "klima", "kontantstøtten"):
            bot.api.push_text(q, user_id=4)
        calls = await bot.api.wait_for("sendMessage", before + 7)
        texts = [c.params["text"] for c in calls[before:]]
        (reply,) = [t for t in texts if "Ny indeks publisert" in t]
        assert f"bygg {new} (var {old.build})" in reply and "Endret: Trygghet for alle" in reply
        assert not any("noe gikk galt" in t for t in texts)
        assert bot.engine.retriever is not old and bot.engine.retriever.build == new
        assert await bot.services.store.get_build() == new
    finally:
        await stop_bot(bot)


async def test_429_is_retried_and_the_answer_sent_once(tmp_path, retriever):
    h = await start_bot(tmp_path, retriever, Faults(script={"sendMessage": [429, 500]}, retry_after=1))
    try:
        h.api.push_text("Vil Ap fjerne kontantstøtten?")
        (ok,) = await h.api.wait_for("sendMessage")
        attempts = h.api.calls_of("sendMessage", ok_only=False)
        assert [c.status for c in attempts] == [429, 500, 200]
        assert attempts[1].at - attempts[0].at >= 0.9  # waited retry_after
        await asyncio.sleep(0.5)
        assert len(h.api.calls_of("sendMessage")) == 1
    finally:
        await stop_bot(h)


async def test_rate_limit_is_friendly(tmp_path, retriever):
    h = await start_bot(tmp_path, retriever, rate_limit_per_minute=2)
    try:
        for q in ("skole", "helse", "politi"):
            h.api.push_text(q)
        calls = await h.api.wait_for("sendMessage", 3)
        assert sum("veldig raskt" in c.params["text"] for c in calls) == 1
    finally:
        await stop_bot(h)


async def test_token_never_appears_in_logs(tmp_path, retriever, caplog):
    caplog.set_level(logging.DEBUG)
    h = await start_bot(tmp_path, retriever)
    try:
        await h.ask("skole")
    finally:
        await stop_bot(h)
    assert caplog.records
    assert TOKEN not in caplog.text
    assert TOKEN.split(":")[1] not in caplog.text


async def test_a_failing_handler_tells_the_user_and_logs(bot, monkeypatch, caplog):
    async def broken(*a, **k):
        raise RuntimeError("search exploded")

    monkeypatch.setattr(bot.engine, "ask", broken)
    sent = await bot.ask("skole")
    assert "noe gikk galt" in sent["text"]
    assert any("search exploded" in str(r.exc_info) for r in caplog.records if r.exc_info)


async def test_feedback_summary_lists_downvotes_and_unanswered(bot, tmp_path):
    sent = await bot.ask("Vil Ap fjerne kontantstøtten?")
    bot.api.push_callback(_button(sent, "👎"), _as_message(sent), user_id=1)
    bot.api.push_callback(_button(sent, "👎"), _as_message(sent), user_id=2)
    await bot.api.wait_for("answerCallbackQuery", 2)
    await bot.ask("Hvem vant fotball-VM i 2022?")
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "feedback"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "POLICYBOT_DATA_DIR": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    assert "oslo-ap-trygghet-for-alle#" in out.stdout and "2 👎" in out.stdout
    assert "Hvem vant fotball-VM i 2022?" in out.stdout


async def test_edits_and_other_bots_commands_in_groups_get_no_reply(bot):
    sent = await bot.ask("Vil Ap fjerne kontantstøtten?")
    before = len(bot.api.calls_of("sendMessage"))
    edited = {
        "message_id": 42, "date": 0, "edit_date": 1, "chat": {"id": 100, "type": "private", "first_name": "Kari"},
        "from": {"id": 555, "is_bot": False, "first_name": "Kari"}, "text": "Vil Ap fjerne kontantstøtten i hele landet?",
    }
    bot.api.push({"edited_message": edited})
    bot.api.push_text("/foo", chat_id=-300, chat_type="group")
    bot.api.push_text("/foo@another_bot", chat_id=-300, chat_type="group")
    await asyncio.sleep(1.0)
    assert len(bot.api.calls_of("sendMessage")) == before
    sent = await bot.ask("/foo@policy_test_bot", chat_id=-300, chat_type="group")
    assert "kjenner jeg ikke" in sent["text"]  # addressed to this bot by name
