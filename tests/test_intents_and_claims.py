"""Small talk, commands without a slash, the named missing word, the graded promise check
and /sammenlign, on the real corpus: through the engine, the terminal chat, Telegram (the
stand-in Bot API) and the CLI."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from bot import intents
from bot.render_html import render as html
from bot.render_text import render as text
from bot.channels.terminal import chat
from bot.views import AnswerPage, CheckView, CompareView, Message, NotCovered
from retrieval import claims

from .test_telegram import assert_valid_html, bot  # noqa: F401 - the fixture


@pytest.mark.parametrize(
    "message, kind, arg",
    [
        ("hei", intents.GREETING, ""),
        ("Hei der!", intents.GREETING, ""),
        ("god morgen", intents.GREETING, ""),
        ("takk, det var nyttig!", intents.THANKS, ""),
        ("Tusen takk", intents.THANKS, ""),
        ("👍", intents.CHAT, ""),
        ("🙂🙂", intents.CHAT, ""),
        ("ok", intents.CHAT, ""),
        ("hjelp", intents.HELP, ""),
        ("Hva kan du?", intents.HELP, ""),
        ("sjekk: Ap vil ha gratis ferje", intents.CHECK, "Ap vil ha gratis ferje"),
        ("Sjekk Ap vil legge ned kontantstøtten", intents.CHECK, "Ap vil legge ned kontantstøtten"),
        ("sammenlign: barnehage", intents.COMPARE, "barnehage"),
        ("sammenlign politikontakt", intents.COMPARE, "politikontakt"),
        ("Hva sier dokumentene om barnehage?", intents.COMPARE, "barnehage"),
        ("tema", intents.TOPICS, ""),
        # questions stay questions, even when they open with a greeting or thanks
        ("Hei, hva mener Ap om skatt?", intents.QUESTION, ""),
        ("takk! hvor mange nye politifolk kommer?", intents.QUESTION, ""),
        ("Vil Ap fjerne kontantstøtten?", intents.QUESTION, ""),
        ("barnehage", intents.QUESTION, ""),
        ("Hva sier programmet om lokalsykehus?", intents.QUESTION, ""),
    ],
)
def test_classify(message, kind, arg):
    got = intents.classify(message)
    assert (got.kind, got.arg) == (kind, arg)


async def test_small_talk_is_answered_kindly_and_never_searched(services):
    engine = services.engine
    for message in ("hei", "takk, det var nyttig!", "👍", "hjelp"):
        view = await engine.ask(message, "u1")
        assert isinstance(view, Message), message
        out = text(view)
        assert "Jeg fant ikke noe om dette" not in out and "nærmeste" not in out
        assert "Vil Ap fjerne kontantstøtten?" in out  # example questions follow
        assert_valid_html(html(view))
    assert text(await engine.ask("hei", "u1")).startswith("Hei!")
    assert text(await engine.ask("takk, det var nyttig!", "u1")).startswith("Bare hyggelig!")
    summary = await services.store.summary(10)
    assert summary.questions == 0  # nothing was searched or stored


async def test_commands_without_a_slash_run_the_command(services):
    engine = services.engine
    view = await engine.ask("sjekk: Ap vil ha gratis ferje", "u2")
    assert isinstance(view, CheckView) and view.claim == "Ap vil ha gratis ferje"
    assert view.verdict == "weaker" and "sikre rimelige ferjepriser fremover" in view.promises[0].chunk.text
    view = await engine.ask("sammenlign: politikontakt", "u2")
    assert isinstance(view, CompareView) and view.topic == "politikontakt"
    view = await engine.ask("Hva sier dokumentene om barnehage?", "u2")
    assert isinstance(view, CompareView) and view.topic == "barnehage"
    view = await engine.ask("tema", "u2")
    assert isinstance(view, Message) and "Velg et dokument" in view.text and len(view.buttons) == len(engine.documents())


async def test_a_key_term_the_documents_never_write_is_named_first(services):
    view = await services.engine.ask("Har Ap lovet å senke formuesskatten?", "u3")
    assert view.missing == ("formuesskatt",)
    for out in (text(view), html(view)):
        assert out.lstrip("<i>").startswith("Dokumentene nevner ikke formuesskatt.")
    if isinstance(view, AnswerPage):
        assert "Det nærmeste jeg fant:" in text(view) or "passer best" in text(view)
        assert "det svarer kanskje ikke direkte" not in text(view)  # the named word replaces the vague caveat
    # a question whose words the documents use names nothing
    plain = await services.engine.ask("Vil Ap fjerne kontantstøtten?", "u3")
    assert isinstance(plain, AnswerPage) and plain.missing == () and "Dokumentene nevner ikke" not in text(plain)


async def test_a_missing_word_in_a_not_covered_reply(services):
    view = await services.engine.ask("Hva mener Ap om Eurovision?", "u4")
    assert "Eurovision" in view.missing
    assert text(view).startswith("Dokumentene nevner ikke Eurovision.")
    if isinstance(view, NotCovered):
        assert "Jeg fant ikke noe om dette i dokumentene" in text(view)


# --- the graded promise check ---------------------------------------------------------------------


def test_scope_weaker_names_both_words(retriever):
    got = claims.check(retriever, "Ap vil at alle kommuner skal ha SLT-koordinator")
    assert got.verdict == "weaker" and got.scope == ("alle",) and got.words == ("øke antall",)
    assert got.passages[0].chunk.text == "øke antall kommuner som har SLT-koordinatorer og miljøarbeidere"


def test_hedge_weaker_names_the_hedge(retriever):
    got = claims.check(retriever, "Ap vil innføre gratis tannhelse for alle")
    assert got.verdict == "weaker" and got.words == ("ha som mål", "trinnvis")
    assert got.passages[0].chunk.text.startswith("ha som mål å sikre universell tannhelsehjelp")


def test_said_only_by_another_document_is_elsewhere_and_named(retriever):
    got = claims.check(retriever, "Ap vil legge ned kontantstøtten")
    assert got.verdict == "elsewhere"
    assert got.doc.id == "oslo-ap-trygghet-for-alle" and got.programme.id == "ap-program-2025-2029"
    assert "fjerne kontantstøtten" in got.passages[0].chunk.text


def test_a_document_that_says_all_of_it_beats_a_promise_that_says_part(retriever):
    # the programme promises «styrke arbeidet mot menneskehandel»; only Oslo Ap promises the plan
    got = claims.check(retriever, "Ap vil utarbeide en ny nasjonal handlingsplan mot menneskehandel")
    assert got.verdict == "elsewhere" and got.doc.id == "oslo-ap-trygghet-for-alle"
    assert got.passages[0].chunk.text == "utarbeide en ny nasjonal handlingsplan mot menneskehandel"


def test_the_opposite_promise_contradicts(retriever):
    got = claims.check(retriever, "Ap vil kutte i sykelønnen")
    assert got.verdict == "contradicts" and got.passages[0].chunk.text == "garantere for at sykelønnen ikke kuttes"
    assert claims.check(retriever, "Ap vil garantere at sykelønnen ikke kuttes").verdict == "match"


def test_nothing_says_it_is_absent_with_the_nearest_promise(retriever):
    got = claims.check(retriever, "Ap vil senke formuesskatten")
    assert got.verdict == "absent" and got.passages and got.passages[0].chunk.doc_id == "ap-program-2025-2029"


def test_direction_reads_negations():
    assert claims.direction("ikke utvide adgangen til å holde butikker åpne") == -1
    assert claims.direction("utvide adgangen") == 1
    assert claims.direction("garantere for at sykelønnen ikke kuttes") == 1
    assert claims.direction("kutte i sykelønnen") == -1
    assert claims.direction("ha gratis ferje") == 0


async def test_checks_render_plain_norwegian(services):
    view = await services.engine.check("Ap vil legge ned kontantstøtten")
    out = text(view)
    assert "«Arbeiderpartiets program 2025–2029» sier ikke dette, men «Trygghet for alle" in out
    assert_valid_html(html(view))
    weaker = await services.engine.check("Ap vil at alle kommuner skal ha SLT-koordinator")
    assert "Programmet lover mindre enn påstanden: det står «øke antall», ikke «alle»." in text(weaker)


async def test_inline_check_marks_only_a_match_with_a_tick(services):
    items = await services.engine.inline_check("Ap vil legge ned kontantstøtten")
    assert items and not any(i.title.startswith("✅") for i in items)
    assert items[0].title.startswith("📄")
    match = await services.engine.inline_check("Ap vil garantere at sykelønnen ikke kuttes")
    assert match[0].title.startswith("✅") and not any(i.title.startswith("✅") for i in match[1:])


# --- /sammenlign ------------------------------------------------------------------------------------


async def test_compare_matches_whole_words_and_compounds(services):
    view = await services.engine.compare("barnehage")
    assert isinstance(view, CompareView) and view.passages
    for p in view.passages:
        assert "barnehus" not in p.chunk.display.lower()
        assert "barnehage" in p.chunk.display.lower()
    docs = [p.chunk.doc_id for p in view.passages]
    assert len(docs) == len(set(docs)) and "ap-program-2025-2029" in docs


# --- the same in every channel -------------------------------------------------------------------


async def test_terminal_chat_small_talk_and_commands_without_slash(services):
    out = io.StringIO()
    await chat(services, io.StringIO("hei\ntakk, det var nyttig!\nsjekk: Ap vil ha gratis ferje\ntema\n"), out)
    printed = out.getvalue()
    assert printed.startswith("Hei!")
    assert "Bare hyggelig!" in printed
    assert "Påstand: «Ap vil ha gratis ferje»" in printed and "Programmet lover mindre enn påstanden" in printed
    assert "ap-program-2025-2029: Arbeiderpartiets program 2025–2029" in printed  # tema lists the documents
    assert "Jeg fant ikke noe om dette" not in printed


async def test_telegram_small_talk_and_commands_without_slash(bot):  # noqa: F811
    sent = await bot.ask("hei")
    assert sent["text"].startswith("Hei!") and "Jeg fant ikke" not in sent["text"]
    sent = await bot.ask("takk, det var nyttig!")
    assert sent["text"].startswith("Bare hyggelig!") and "<blockquote>" not in sent["text"]
    sent = await bot.ask("sjekk: Ap vil legge ned kontantstøtten")
    assert "sier ikke dette, men «Trygghet for alle" in sent["text"] and "fjerne kontantstøtten" in sent["text"]


def test_cli_check_json(built_index, tmp_path):
    env = {**os.environ, "POLICYBOT_INDEX_DIR": str(built_index[0]), "POLICYBOT_DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check", "Ap vil innføre gratis tannhelse for alle", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["verdict"] == "weaker" and got["reason"] == "Programmet lover mindre enn påstanden: løftet er formulert som «ha som mål» og «trinnvis»."
    assert got["passages"][0]["text"].startswith("ha som mål å sikre universell tannhelsehjelp")
    bad = subprocess.run([sys.executable, "-m", "bot.cli", "check", " "], capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "skriv en påstand" in bad.stderr and "Traceback" not in bad.stderr
