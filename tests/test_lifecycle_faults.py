"""Start-up, shutdown and Telegram faults of the second red-team round (issue 22: 2, 3, 4,
6, 10, 13, 15, 16). Every test drives the real `policybot` process or the real
python-telegram-bot Application against the stand-in Bot API on 127.0.0.1, and asserts on
the exit code, the Bot API calls made, and the log."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from .fake_bot_api import FakeBotAPI, Faults
from .test_telegram import TOKEN, _as_message, _button, start_bot, stop_bot

POLICYBOT = [sys.executable, "-m", "bot.cli"]
SECRET = "s3cret-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(api: FakeBotAPI | None, index_dir: Path, data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")}
    env.update(POLICYBOT_TELEGRAM_TOKEN=TOKEN, POLICYBOT_INDEX_DIR=str(index_dir), POLICYBOT_DATA_DIR=str(data_dir))
    if api is not None:
        env["POLICYBOT_TELEGRAM_API_URL"] = api.base_url
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _webhook_env(port: int) -> dict:
    return {
        "POLICYBOT_WEBHOOK_URL": "https://bot.example.org",
        "POLICYBOT_WEBHOOK_SECRET": SECRET,
        "POLICYBOT_WEBHOOK_LISTEN": "127.0.0.1",
        "POLICYBOT_WEBHOOK_PORT": port,
        "POLICYBOT_WEBHOOK_PATH": "hook",
    }


async def _run(args, env, timeout=10.0, input=None) -> subprocess.CompletedProcess:
    """The bot as a process; ``timeout`` is the bound the issue sets (it used to hang)."""
    return await asyncio.to_thread(subprocess.run, POLICYBOT + args, capture_output=True, text=True, env=env, timeout=timeout, input=input)


def _failed_in_one_line(out, *needles) -> None:
    err = out.stderr.strip()
    assert out.returncode != 0, err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if not line[:4].isdigit()]  # log lines may come first
    assert len(lines) == 1, err
    for n in needles:
        assert n in lines[0], err
    assert TOKEN.split(":")[1] not in out.stdout + out.stderr


# --- 2: every start-up failure exits non-zero within 10 s, no webhook left behind ---------------


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_corrupt_state_database_ends_run_within_ten_seconds(tmp_path, built_index, mode):
    api = FakeBotAPI(TOKEN)
    await api.start()
    try:
        data = tmp_path / "data"
        data.mkdir()
        (data / "state.sqlite").write_bytes(os.urandom(8192))
        port = _free_port()
        env = _env(api, built_index[0], data, **(_webhook_env(port) if mode == "webhook" else {}))
        out = await _run(["run"] + (["--webhook"] if mode == "webhook" else []), env)
    finally:
        await api.stop()
    _failed_in_one_line(out, "tilstandsdatabasen")
    assert api.webhook_url == ""


@pytest.mark.parametrize("fault", ["busy-port", "bad-address", "setwebhook-refused"])
async def test_a_failed_webhook_start_exits_and_leaves_no_webhook_registered(tmp_path, built_index, fault):
    api = FakeBotAPI(TOKEN, Faults(script={"setWebhook": [400]} if fault == "setwebhook-refused" else {}, descriptions={400: "Bad Request: bad webhook: HTTPS url must be provided for webhook"}))
    await api.start()
    blocker = socket.socket()
    port = _free_port()
    extra = _webhook_env(port)
    if fault == "busy-port":
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
    if fault == "bad-address":
        extra["POLICYBOT_WEBHOOK_LISTEN"] = "256.256.256.256"
    try:
        out = await _run(["run", "--webhook"], _env(api, built_index[0], tmp_path, **extra))
    finally:
        blocker.close()
        await api.stop()
    needle = {"busy-port": str(port), "bad-address": "256.256.256.256", "setwebhook-refused": "avviste webhook-adressen"}[fault]
    _failed_in_one_line(out, needle)
    assert "får ikke kontakt" not in out.stderr  # a refusal is not a network problem (4)
    assert api.webhook_url == "", "a webhook must not point at a replica that failed to start"


async def test_sigterm_after_the_token_was_revoked_exits_and_the_revocation_is_visible(tmp_path, built_index):
    api = FakeBotAPI(TOKEN)
    await api.start()
    health = _free_port()
    env = _env(api, built_index[0], tmp_path, POLICYBOT_HEALTH_PORT=health)
    proc = subprocess.Popen(POLICYBOT + ["run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        await api.wait_for("getUpdates", timeout=90)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{health}/health") as r:
                assert r.status == 200
            api.token = "999:revoked-at-botfather-xxxxxxxxxxxxxxxxxxxx"  # every call now gets 401
            deadline = time.monotonic() + 30
            status = 200
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    async with http.get(f"http://127.0.0.1:{health}/health") as r:
                        status = r.status
                except aiohttp.ClientError:
                    status = 0  # the process stopped serving
                if status != 200:
                    break
                await asyncio.sleep(0.2)
        assert status != 200 or proc.poll() is not None, "health stayed ok after the token was revoked"
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(proc.communicate, timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        await api.stop()
    assert proc.returncode != 0
    assert "token" in stderr.lower() and ("revoked" in stderr.lower() or "rejected" in stderr.lower()), stderr
    assert TOKEN.split(":")[1] not in stderr and "Traceback" not in stderr


# --- 3: every search-causing update is rate-limited; told once, then silence ------------------


async def test_a_flood_of_compare_check_inline_and_more_is_limited_like_questions(tmp_path, retriever):
    h = await start_bot(tmp_path, retriever, rate_limit_per_minute=3)
    api = h.api
    try:
        first = await h.ask("Hva vil dere gjøre for politiet?", user_id=801, chat_id=801)  # 1 of 3
        more = _button(first, "Vis flere")
        for i in range(4):
            api.push_text(f"/sammenlign politikontakt {i}", user_id=801, chat_id=801)
            api.push_text(f"/sjekk Ap vil legge ned kontantstøtten {i}", user_id=801, chat_id=801)
            api.push_inline(f"kontantstøtte {i}", user_id=801)
            api.push_callback(more, _as_message(first, 9000 + i), user_id=801)
        # another user is answered as usual
        other = await h.ask("Hva vil Ap gjøre med boligprisene?", user_id=802, chat_id=802)
        assert "Beklager" not in other["text"] and "raskt" not in other["text"]
        await asyncio.sleep(3.0)  # let every flooded update be handled
    finally:
        await stop_bot(h)
    to_801 = [c for c in api.calls_of("sendMessage") if int(c.params["chat_id"]) == 801]
    edits = api.calls_of("editMessageText")
    inline_answered = [c for c in api.calls_of("answerInlineQuery") if c.params.get("results")]
    searched = len(to_801) + len(edits) + len(inline_answered)
    told = [c for c in to_801 if "raskt" in c.params["text"]]
    toasts = [c for c in api.calls_of("answerCallbackQuery") if "raskt" in (c.params.get("text") or "")]
    inline_told = [c for c in api.calls_of("answerInlineQuery") if not c.params.get("results")]
    assert searched - len(told) <= 3, (len(to_801), len(edits), len(inline_answered))
    assert len(told) + len(toasts) + len(inline_told) == 1, "tell a limited user once per window, then stay silent"


# --- 4 and 16: permanent refusals are not retried; a user who blocked the bot ---------------------


async def test_a_permanent_400_is_sent_once_and_a_blocked_user_gets_no_error_reply(tmp_path, retriever, caplog):
    caplog.set_level("INFO")
    h = await start_bot(tmp_path, retriever, faults=Faults(script={"sendMessage": [403]}))
    api = h.api
    try:
        api.push_text("Hva vil Ap med skatt?", chat_id=702, user_id=702)  # 403: the user blocked the bot
        await api.wait_for("sendMessage", where=lambda c: c.status == 403, ok_only=False)
        await asyncio.sleep(2.0)
        api.faults.script["sendMessage"] = [400]
        api.push_text("Vil Ap fjerne kontantstøtten?", chat_id=701, user_id=701)  # 400: chat not found
        await api.wait_for("sendMessage", where=lambda c: c.status == 400, ok_only=False)
        await asyncio.sleep(2.0)
        ok = await h.ask("Hvor mange nye politistillinger kommer?", chat_id=703, user_id=703)
        assert "Beklager" not in ok["text"]
    finally:
        await stop_bot(h)
    refused = [c for c in api.calls_of("sendMessage", ok_only=False) if c.status in (400, 403)]
    assert len(refused) == 2, [(c.status, c.params.get("chat_id")) for c in api.calls_of("sendMessage", ok_only=False)]
    to_blocked = [c for c in api.calls_of("sendMessage", ok_only=False) if int(c.params["chat_id"]) == 702]
    assert len(to_blocked) == 1, "no error text to a user who blocked the bot"
    assert not any("retrying" in r.getMessage() for r in caplog.records)
    blocked = [r for r in caplog.records if "blocked" in r.getMessage().lower()]
    assert blocked and all(r.levelname in ("INFO", "WARNING") and not r.exc_info for r in blocked)


# --- 10: odd webhook requests get 4xx, never 500 ------------------------------------------------


async def test_odd_webhook_requests_get_4xx_and_no_traceback(tmp_path, built_index):
    api = FakeBotAPI(TOKEN)
    await api.start()
    port = _free_port()
    env = _env(api, built_index[0], tmp_path, **_webhook_env(port))
    proc = subprocess.Popen(POLICYBOT + ["run", "--webhook"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/hook"
    base = {"message_id": 1, "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": False, "first_name": "K"}}
    odd = [
        {"update_id": 10, "message": {**base, "date": 1e300, "text": "hei"}},
        {"update_id": 2**63, "message": {**base, "date": 0, "text": "hei"}},
        {"update_id": 11, "message": {**base, "date": 0, "text": 12345}},
        {"update_id": 12, "message": {**base, "date": "yesterday", "text": "hei"}},
    ]
    statuses = []
    try:
        await api.wait_for("setWebhook", timeout=90)
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/health") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)  # a header that is not UTF-8
            writer.write(b"POST /hook HTTP/1.1\r\nHost: x\r\nX-Telegram-Bot-Api-Secret-Token: \xff\xfe\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
            await writer.drain()
            statuses.append(int((await reader.read(64)).split()[1]))
            writer.close()
            for body in odd:
                async with http.post(url, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
                    statuses.append(r.status)
            async with http.post(url, json={"update_id": 13, "message": {**base, "date": 0, "text": "Vil Ap fjerne kontantstøtten?"}}, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
                assert r.status == 200
        await api.wait_for("sendMessage", timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(proc.communicate, timeout=30)
        await api.stop()
    assert statuses[0] == 403
    assert all(400 <= s < 500 or s == 200 for s in statuses[1:]), statuses
    assert "Traceback" not in stderr and " 500 " not in stderr, stderr


# --- 13: groups -------------------------------------------------------------------------------------


async def test_in_groups_another_bots_mention_and_bare_commands_get_no_reply(tmp_path, retriever):
    h = await start_bot(tmp_path, retriever)
    api = h.api
    try:
        api.push_text("@policy_test_botx Vil Ap fjerne kontantstøtten?", chat_id=-600, chat_type="group")
        api.push_text("/hjelp", chat_id=-601, chat_type="group")
        api.push_text("/sjekk Ap vil legge ned kontantstøtten", chat_id=-602, chat_type="group")
        addressed = await h.ask("/hjelp@policy_test_bot", chat_id=-603, chat_type="group")
        assert "Slik bruker du meg" in addressed["text"]
        mention = await h.ask("@policy_test_bot Vil Ap fjerne kontantstøtten?", chat_id=-604, chat_type="group")
        assert "kontantstøtte" in mention["text"].lower()
        await asyncio.sleep(1.0)
    finally:
        await stop_bot(h)
    answered = {int(c.params["chat_id"]) for c in api.calls_of("sendMessage")}
    assert answered == {-603, -604}, answered


# --- 15: the terminal chat ---------------------------------------------------------------------------


async def test_terminal_chat_survives_invalid_utf8_and_never_echoes_escape_sequences(tmp_path, built_index):
    env = _env(None, built_index[0], tmp_path)
    env.pop("POLICYBOT_TELEGRAM_TOKEN")
    stdin = b"Vil Ap fjerne kontantst\xf8tten?\n/sjekk Ap vil \x1b[2J\x1b]0;pwned\x07 legge ned kontantst\xc3\xb8tten\nHva vil Ap med skatt?\n"
    out = await asyncio.to_thread(subprocess.run, POLICYBOT + ["chat"], input=stdin, capture_output=True, env=env, timeout=60)
    text = out.stdout.decode("utf-8")
    assert out.returncode == 0, out.stderr.decode()
    assert b"Traceback" not in out.stderr
    assert "\x1b" not in text and "\x07" not in text
    assert text.count("Påstand: «") == 1 and "skatt" in text.lower()


async def test_ctrl_c_ends_the_terminal_chat_without_waiting_for_enter(tmp_path, built_index):
    env = _env(None, built_index[0], tmp_path)
    env.pop("POLICYBOT_TELEGRAM_TOKEN")
    proc = subprocess.Popen(POLICYBOT + ["chat"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdin.write("Vil Ap fjerne kontantstøtten?\n")
        proc.stdin.flush()
        line = await asyncio.to_thread(proc.stdout.readline)  # the answer: the chat is now waiting for input
        assert line
        await asyncio.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        rc = await asyncio.to_thread(proc.wait, 10)  # the stdin pipe stays open: no Enter comes
        stderr = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc in (0, 130) and "Traceback" not in stderr, stderr
