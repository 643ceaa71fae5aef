"""Faults get one clear line and lose nothing (issue: hardening). Each test names a defect
that once crashed, leaked or misbehaved."""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from corpus import BUILTIN_DIR

from .fake_bot_api import FakeBotAPI
from .test_telegram import TOKEN

POLICYBOT = [sys.executable, "-m", "bot.cli"]


def _run(args, env_extra=None, cwd=None, timeout=120, input=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")}
    env.update(env_extra or {})
    return subprocess.run(POLICYBOT + args, capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd, input=input)


def _one_clear_line(out, *needles, logs_ok=False):
    """A non-zero exit, no traceback, and one line that says what is wrong. With
    ``logs_ok`` (a running bot) timestamped log lines may come before it."""
    err = out.stderr.strip()
    assert out.returncode != 0
    assert "Traceback" not in err, err
    lines = err.splitlines()
    if logs_ok:
        lines = [line for line in lines if not line[:4].isdigit()]
    assert len(lines) == 1, err
    for n in needles:
        assert n in lines[0], err


def _corpus_copy(tmp_path) -> Path:
    dst = tmp_path / "corpus"
    shutil.copytree(BUILTIN_DIR, dst, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return dst


# --- the token ------------------------------------------------------------------------------


def test_a_rejected_token_is_one_line_and_never_printed(tmp_path, built_index):
    async def main():
        api = FakeBotAPI("999:a-different-token-that-the-server-knows-xxxx")
        await api.start()
        try:
            env = {
                "POLICYBOT_TELEGRAM_TOKEN": TOKEN,
                "POLICYBOT_TELEGRAM_API_URL": api.base_url,
                "POLICYBOT_DATA_DIR": str(tmp_path),
                "POLICYBOT_INDEX_DIR": str(built_index[0]),
            }
            return await asyncio.to_thread(_run, ["run"], env)
        finally:
            await api.stop()

    out = asyncio.run(main())
    assert TOKEN not in out.stdout + out.stderr
    assert TOKEN.split(":")[1] not in out.stdout + out.stderr
    _one_clear_line(out, "avviste", logs_ok=True)


def test_an_unreachable_api_is_one_line(tmp_path, built_index):
    env = {
        "POLICYBOT_TELEGRAM_TOKEN": TOKEN,
        "POLICYBOT_TELEGRAM_API_URL": "http://127.0.0.1:9/bot",
        "POLICYBOT_DATA_DIR": str(tmp_path),
        "POLICYBOT_INDEX_DIR": str(built_index[0]),
    }
    out = _run(["run"], env)
    assert TOKEN not in out.stdout + out.stderr
    _one_clear_line(out, "Telegram", logs_ok=True)


# --- corpus and settings faults ---------------------------------------------------------------


@pytest.mark.parametrize("command", [["index", "status"], ["index", "build"], ["corpus", "list"]])
def test_a_missing_document_file_is_one_line(tmp_path, command):
    root = _corpus_copy(tmp_path)
    (root / "oslo-ap-trygghet-for-alle.txt").unlink()
    out = _run(command, {"POLICYBOT_CORPUS_DIR": str(root), "POLICYBOT_DATA_DIR": str(tmp_path / "data")})
    if command == ["corpus", "list"]:
        assert out.returncode == 0  # listing does not read the texts
        return
    _one_clear_line(out, "oslo-ap-trygghet-for-alle")


def test_verify_reports_a_non_utf8_document_instead_of_crashing(tmp_path, built_index):
    root = _corpus_copy(tmp_path)
    (root / "oslo-ap-trygghet-for-alle.txt").write_bytes(b"\xff\xfe not utf-8 \x80")
    out = _run(["index", "verify"], {"POLICYBOT_CORPUS_DIR": str(root), "POLICYBOT_INDEX_DIR": str(built_index[0])})
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "UTF-8" in out.stderr


def test_non_utf8_manifest_and_env_and_a_file_as_data_dir_are_one_line(tmp_path):
    root = _corpus_copy(tmp_path)
    (root / "documents.toml").write_bytes(b"[[document]]\nid = \"\xff\"\n")
    _one_clear_line(_run(["corpus", "list"], {"POLICYBOT_CORPUS_DIR": str(root)}), "documents.toml")

    work = tmp_path / "work"
    work.mkdir()
    (work / ".env").write_bytes(b"POLICYBOT_LOG_LEVEL=\xff\xfe\n")
    _one_clear_line(_run(["corpus", "list"], cwd=work), ".env")

    (tmp_path / "afile").write_text("x")
    _one_clear_line(_run(["index", "build"], {"POLICYBOT_DATA_DIR": str(tmp_path / "afile")}), "POLICYBOT_DATA_DIR")


def test_a_manifest_entry_may_not_name_a_file_outside_the_corpus(tmp_path):
    root = _corpus_copy(tmp_path)
    text = (root / "documents.toml").read_text(encoding="utf-8")
    (root / "documents.toml").write_text(text.replace('file = "oslo-ap-trygghet-for-alle.txt"', 'file = "/etc/passwd"'), encoding="utf-8")
    _one_clear_line(_run(["index", "status"], {"POLICYBOT_CORPUS_DIR": str(root)}), "/etc/passwd")
    (root / "documents.toml").write_text(text + 'url = "javascript:alert(1)"\n', encoding="utf-8")
    _one_clear_line(_run(["corpus", "list"], {"POLICYBOT_CORPUS_DIR": str(root)}), "http")


# --- corpus add ---------------------------------------------------------------------------------

SAMPLE = "Testpartiets plan 2026–2030\n\n1. Skole\n\n" + "Testpartiet mener at alle barn skal ha en god skole. " * 8


def test_corpus_add_keeps_the_en_dash_out_of_the_id_refuses_javascript_and_leaves_the_builtin_corpus_alone(tmp_path):
    src = tmp_path / "plan.txt"
    src.write_text(SAMPLE, encoding="utf-8")
    data = tmp_path / "data"
    env = {"POLICYBOT_DATA_DIR": str(data)}
    bad = _run(["corpus", "add", str(src), "--title", "Plan 2026–2030", "--publisher", "Testpartiet", "--url", "javascript:alert(1)"], env)
    _one_clear_line(bad, "http")
    out = _run(["corpus", "add", str(src), "--title", "Plan 2026–2030", "--publisher", "Testpartiet"], env)
    assert out.returncode == 0, out.stderr
    assert "plan-2026-2030" in out.stdout
    assert (data / "corpus" / "plan-2026-2030.txt").is_file()
    assert not (BUILTIN_DIR / "plan-2026-2030.txt").exists()
    listed = _run(["corpus", "list"], env)
    assert "plan-2026-2030" in listed.stdout and "ap-program-2025-2029" in listed.stdout


# --- small inconsistencies ----------------------------------------------------------------------


def test_health_without_a_port_says_so(tmp_path):
    out = _run(["health"], {"POLICYBOT_DATA_DIR": str(tmp_path)})
    _one_clear_line(out, "POLICYBOT_HEALTH_PORT")


def test_feedback_never_prints_control_characters(tmp_path):
    from bot.services import build_store
    from bot.settings import Settings
    from bot.state import AnswerRecord, Prefs

    async def seed():
        store = build_store(Settings(data_dir=tmp_path))
        await store.open()
        await store.save_answer("t1", AnswerRecord("hei\x00\x07\u202eevil\x1b[31m", Prefs(), "b", found=False))
        await store.close()

    asyncio.run(seed())
    out = _run(["feedback"], {"POLICYBOT_DATA_DIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert not any(c in out.stdout for c in "\x00\x07\u202e\x1b")
    assert "hei" in out.stdout and "evil" in out.stdout


async def test_the_long_question_notice_names_the_limit_search_uses(services):
    from bot.render_text import render

    view = await services.engine.ask("Vil Ap fjerne kontantstøtten? " + "bla " * 400)
    limit = services.retriever.config.max_query_chars
    assert services.engine.max_question_chars == limit == 1000
    assert f"de første {limit}" in render(view)


async def test_a_forged_negative_page_gets_the_polite_answer(services):
    view = await services.engine.ask("Vil Ap fjerne kontantstøtten?")
    forged = await services.engine.press_data(f"p:{view.token}:-1", "")
    assert forged.expired and forged.notice


def test_a_corrupt_embedding_cache_is_set_aside_and_the_build_succeeds(tmp_path):
    index_dir = tmp_path / "data" / "index"
    index_dir.mkdir(parents=True)
    (index_dir / "embed-cache.sqlite").write_bytes(b"this is not a database" * 100)
    out = _run(["index", "build"], {"POLICYBOT_DATA_DIR": str(tmp_path / "data")})
    assert out.returncode == 0, out.stderr
    assert "hurtigbufferen" in out.stderr and "Traceback" not in out.stderr
    assert (index_dir / "embed-cache.sqlite.corrupt").is_file()
    assert "DEBUG" not in out.stderr  # bm25s's own logger stays quiet at INFO


def test_the_terminal_welcome_names_only_terminal_commands(services):
    from bot.render_text import render
    from bot.commands import terminal_help

    TERMINAL_HELP = terminal_help()

    welcome = render(services.engine.welcome(telegram=False))
    assert "/filter" not in welcome and "/filter" not in TERMINAL_HELP
    assert "/filter" in render(services.engine.welcome())  # Telegram has it
