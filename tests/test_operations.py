"""Operations: webhook mode with its secret token and health endpoint, graceful shutdown
with updates in flight (webhook in-process, polling as a real process with SIGTERM), and
the Dockerfile."""
from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bot.services import build_services
from bot.settings import Settings
from bot.channels.telegram import SECRET_HEADER, TelegramChannel
from bot.server import serve

from .fake_bot_api import FakeBotAPI, Faults
from .test_telegram import TOKEN

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _update(update_id: int, text: str, chat_id: int = 100) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Kari"},
            "from": {"id": 555, "is_bot": False, "first_name": "Kari"},
            "text": text,
        },
    }


async def test_webhook_checks_the_secret_serves_health_and_drains_on_stop(tmp_path, retriever, caplog):
    api = FakeBotAPI(TOKEN, Faults(delay=0.5))
    await api.start()
    port = _free_port()
    settings = Settings(
        telegram_token=TOKEN,
        telegram_api_url=api.base_url,
        data_dir=tmp_path,
        webhook_url="https://bot.example.org",
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_path="hook",
        webhook_secret="s3cret-token",
    )
    services = build_services(settings, retriever)
    stop = asyncio.Event()
    server = asyncio.create_task(serve(services, [TelegramChannel(services, webhook=True)], host="127.0.0.1", port=port, stop=stop))
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"{base}/health") as r:
                        if r.status == 200:
                            health = await r.json()
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            assert health["status"] == "ok" and health["chunks"] == len(retriever.chunks)
            (hook,) = api.calls_of("setWebhook")
            assert hook.params["url"] == "https://bot.example.org/hook" and hook.params["secret_token"] == "s3cret-token"

            async with http.post(f"{base}/hook", json=_update(1, "kontantstøtten")) as r:
                assert r.status == 403
            async with http.post(f"{base}/hook", json=_update(1, "kontantstøtten"), headers={SECRET_HEADER: "wrong"}) as r:
                assert r.status == 403
            assert not api.calls_of("sendMessage")

            ok = {SECRET_HEADER: "s3cret-token"}
            nested = "[" * 100_000 + "]" * 100_000
            not_updates = ["not json", "null", "[1,2]", '"text"', nested, '{"update_id": "10"}', '{"message": {}}']
            for body in not_updates:
                async with http.post(f"{base}/hook", data=body, headers=ok) as r:
                    assert r.status == 400, body[:30]
            for uid, q in enumerate(["kontantstøtten", "turistskatt", "skolemat", "politikontakt"], start=10):
                async with http.post(f"{base}/hook", json=_update(uid, q), headers=ok) as r:
                    assert r.status == 200
            async with http.post(f"{base}/hook", json=_update(10, "kontantstøtten"), headers=ok) as r:
                assert r.status == 200  # a redelivery is acknowledged but not answered again
            stop.set()  # stop while the answers are in flight (each send takes 0.5 s)
            await asyncio.wait_for(server, 60)
        sent = api.calls_of("sendMessage")
        assert len(sent) == 4  # every acknowledged update answered, the redelivery not again
        # webhook mode on SQLite is one replica only, and it says so
        assert "webhook mode with the state in SQLite" in caplog.text and "run exactly ONE replica" in caplog.text
        assert any("besøksbidrag" in c.params["text"] for c in sent)
    finally:
        if not server.done():
            stop.set()
            await server
        await api.stop()


async def _wait(pred, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.1)


def _bot_process(api: FakeBotAPI, index_dir: Path, data_dir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "POLICYBOT_TELEGRAM_TOKEN": TOKEN,
        "POLICYBOT_TELEGRAM_API_URL": api.base_url,
        "POLICYBOT_INDEX_DIR": str(index_dir),
        "POLICYBOT_DATA_DIR": str(data_dir),
        "POLICYBOT_LOG_LEVEL": "INFO",
    }
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def test_sigterm_finishes_updates_in_hand_and_nothing_is_answered_twice(built_index, tmp_path):
    api = FakeBotAPI(TOKEN, Faults(delay=1.0))
    await api.start()
    proc = _bot_process(api, built_index[0], tmp_path)
    try:
        await _wait(lambda: bool(api.calls_of("getUpdates")), 90)
        ids = [api.push_text(q, chat_id=100 + i) for i, q in enumerate(["kontantstøtten", "skolemat", "turistskatt", "politiet", "klimamål"])]
        await _wait(lambda: len(api.calls_of("sendMessage", ok_only=False)) >= 1)
        proc.send_signal(signal.SIGTERM)  # the other answers are still being sent
        loop = asyncio.get_running_loop()
        rc = await loop.run_in_executor(None, proc.wait, 60)
        stderr = proc.stderr.read()
        assert rc == 0, stderr
        assert TOKEN not in stderr
        chats = sorted(int(c.params["chat_id"]) for c in api.calls_of("sendMessage"))
        assert chats == [100, 101, 102, 103, 104]
        assert api.confirmed_offset == ids[-1] + 1  # acknowledged before exiting

        # a restarted bot does not answer them again
        api.faults.delay = 0
        proc = _bot_process(api, built_index[0], tmp_path)
        await _wait(lambda: len(api.calls_of("getUpdates")) >= 4, 90)
        api.push_text("bolig", chat_id=200)
        await api.wait_for("sendMessage", 6, timeout=60)
        await asyncio.sleep(1.0)
        chats = sorted(int(c.params["chat_id"]) for c in api.calls_of("sendMessage"))
        assert chats == [100, 101, 102, 103, 104, 200]
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        await api.stop()


def test_run_without_a_valid_token_is_one_clear_line(tmp_path):
    env = {**os.environ, "POLICYBOT_TELEGRAM_TOKEN": "not-a-token", "POLICYBOT_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "bot.cli", "run"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "POLICYBOT_TELEGRAM_TOKEN" in out.stderr
    assert "not-a-token" not in out.stderr and "Traceback" not in out.stderr


def test_dockerfile_installs_like_the_readme_and_references_real_files():
    docker = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim AS build", docker, re.M)
    assert len(re.findall(r"^FROM ", docker, re.M)) == 2  # multi-stage
    # the same install as the README's `make setup`: the project from pyproject.toml into a
    # venv, torch pinned to 2.13.0 before the optional sentence-transformers extra
    assert "pip install -q -e ." in makefile and re.search(r"pip install --no-cache-dir \"\.\[", docker)
    assert "torch==2.13.0" in makefile and "torch==2.13.0" in docker
    assert "policybot index build" in docker  # the image starts answering at once
    assert re.search(r"^USER policybot", docker, re.M) and re.search(r'^HEALTHCHECK .*\["policybot", "health"\]', docker, re.M)
    assert "ARG ST_MODEL" in docker
    for src in re.findall(r"^COPY (?!--from)(?:--chown=\S+ )?(.+) \S+$", docker, re.M):
        for part in src.split():
            assert (ROOT / part).exists(), part
