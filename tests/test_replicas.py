"""Two webhook replicas as separate processes sharing one real PostgreSQL, behind a
round-robin dispatcher on 127.0.0.1, against the stand-in Bot API. Builds shared through
the store, and faults (kills, drains, a database outage): tests/test_replica_faults.py."""
from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from corpus import BUILTIN_DIR
from index.manifest import load_corpus
from index.store import build_index, current_build

from .fake_bot_api import BOT_USER, FakeBotAPI
from .test_operations import _free_port
from .test_telegram import TOKEN, _button

SECRET = "replica-secret"
ADMIN = 999


class Replica:
    def __init__(self, name: str, api: FakeBotAPI, db_url: str, corpus_dir: Path, index_dir: Path, data_dir: Path) -> None:
        self.name, self.port = name, _free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")},
            "POLICYBOT_TELEGRAM_TOKEN": TOKEN,
            "POLICYBOT_TELEGRAM_API_URL": api.base_url,
            "POLICYBOT_DATABASE_URL": db_url,
            "POLICYBOT_USER_SALT": "shared-between-replicas",
            "POLICYBOT_CORPUS_DIR": str(corpus_dir),
            "POLICYBOT_INDEX_DIR": str(index_dir),
            "POLICYBOT_DATA_DIR": str(data_dir),
            "POLICYBOT_WEBHOOK_URL": "https://bot.example.org",
            "POLICYBOT_WEBHOOK_SECRET": SECRET,
            "POLICYBOT_WEBHOOK_LISTEN": "127.0.0.1",
            "POLICYBOT_WEBHOOK_PORT": str(self.port),
            "POLICYBOT_ADMIN_IDS": str(ADMIN),
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--webhook"], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def stop(self) -> str:
        if self.proc is None or self.proc.poll() is not None:
            return ""
        self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def health(self, http: aiohttp.ClientSession, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.proc.stderr.read()}")
            try:
                async with http.get(f"{self.base}/health") as r:
                    if r.status == 200:
                        return await r.json()
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name} never became healthy")


class Dispatcher:
    """A round-robin load balancer: each update goes to the next replica."""

    def __init__(self, replicas: list[Replica], http: aiohttp.ClientSession) -> None:
        self.replicas, self.http = replicas, http
        self._next = itertools.cycle(range(len(replicas)))
        self._ids = itertools.count(1)
        self._msg = itertools.count(5000)

    async def post(self, update: dict, to: Replica | None = None) -> int:
        target = to or self.replicas[next(self._next)]
        async with self.http.post(f"{target.base}/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
            return r.status

    def text(self, text: str, user_id: int = 555, chat_id: int = 100) -> dict:
        uid = next(self._ids)
        msg = {
            "message_id": next(self._msg),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Kari"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Kari"},
            "text": text,
        }
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"update_id": uid, "message": msg}

    def press(self, data: str, sent: dict, user_id: int = 555) -> dict:
        message = {"message_id": 777, "date": 0, "chat": {"id": int(sent["chat_id"]), "type": "private"}, "from": BOT_USER, "text": sent["text"]}
        return {
            "update_id": next(self._ids),
            "callback_query": {"id": str(next(self._msg)), "from": {"id": user_id, "is_bot": False, "first_name": "Kari"}, "chat_instance": "ci", "data": data, "message": message},
        }


@pytest.fixture
def shared_index(tmp_path, built_index):
    corpus_dir = tmp_path / "corpus"
    shutil.copytree(BUILTIN_DIR, corpus_dir, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    index_dir = tmp_path / "index"
    shutil.copytree(built_index[0], index_dir)
    return corpus_dir, index_dir


async def test_two_replicas_share_answers_preferences_and_updates(tmp_path, pg_db, shared_index, embedder):
    corpus_dir, index_dir = shared_index
    api = FakeBotAPI(TOKEN)
    await api.start()
    a = Replica("A", api, pg_db, corpus_dir, index_dir, tmp_path / "a")
    b = Replica("B", api, pg_db, corpus_dir, index_dir, tmp_path / "b")
    async with aiohttp.ClientSession() as http:
        try:
            a.start()
            b.start()
            await a.health(http)
            await b.health(http)
            lb = Dispatcher([a, b], http)

            # 1. answered by A, "Vis flere" pressed on B: page 2
            assert await lb.post(lb.text("Hva vil dere gjøre for politiet?"), to=a) == 200
            (sent,) = await api.wait_for("sendMessage", 1)
            assert await lb.post(lb.press(_button(sent.params, "Vis flere"), sent.params), to=b) == 200
            (edit,) = await api.wait_for("editMessageText", 1)
            assert "<b>4.</b>" in edit.params["text"] and "<b>1.</b>" not in edit.params["text"]

            # 2. a filter set through A; A restarted; a question through B is filtered
            assert await lb.post(lb.text("/lofter", user_id=42, chat_id=142), to=a) == 200
            await api.wait_for("sendMessage", 2)
            a.stop()
            a.start()
            await a.health(http)
            assert await lb.post(lb.text("politiet", user_id=42, chat_id=142), to=b) == 200
            calls = await api.wait_for("sendMessage", 3)
            assert "bare løfter" in calls[2].params["text"]

            # 3. the same update delivered to both replicas is answered once
            twice = lb.text("Vil Ap fjerne kontantstøtten?", chat_id=300)
            assert await lb.post(twice, to=a) == 200
            assert await lb.post(twice, to=b) == 200
            await api.wait_for("sendMessage", 4, where=None)
            await asyncio.sleep(1.5)
            assert sum(int(c.params["chat_id"]) == 300 for c in api.calls_of("sendMessage")) == 1

        finally:
            err_a, err_b = a.stop(), b.stop()
            await api.stop()
    assert TOKEN not in err_a + err_b
    assert "Traceback" not in err_a + err_b, (err_a + err_b)[-2000:]
