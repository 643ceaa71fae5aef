"""Replicas as separate processes and a dispatcher that behaves like Telegram, shared by
tests/test_replica_faults.py and benchmarks/bench_replicas.py.

* :class:`Replica`: ``python -m bot.cli run --webhook`` with its own data directory (its
  own host: own index cache, own embedding cache), on a shared PostgreSQL.
* :class:`TelegramLike`: delivers each update to the next replica (round robin) and, like
  Telegram, delivers it again when the answer is not 2xx, the connection fails or resets,
  or no answer comes within the timeout, until a replica says 200.
* :func:`answered`: how many replies each update got, from the stand-in Bot API's record.
"""
from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHreplica-test-token-abcdefghijklmn"
SECRET = "replica-secret"
ADMIN = 999


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Replica:
    def __init__(self, name: str, api_url: str, db_url: str, data_dir: Path, **env: str) -> None:
        self.name, self.port = name, free_port()
        self.data_dir = Path(data_dir)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")},
            "POLICYBOT_TELEGRAM_TOKEN": TOKEN,
            "POLICYBOT_TELEGRAM_API_URL": api_url,
            "POLICYBOT_DATABASE_URL": db_url,
            "POLICYBOT_USER_SALT": "shared-between-replicas",
            "POLICYBOT_DATA_DIR": str(self.data_dir),
            "POLICYBOT_WEBHOOK_URL": "https://bot.example.org",
            "POLICYBOT_WEBHOOK_SECRET": SECRET,
            "POLICYBOT_WEBHOOK_LISTEN": "127.0.0.1",
            "POLICYBOT_WEBHOOK_PORT": str(self.port),
            "POLICYBOT_ADMIN_IDS": str(ADMIN),
            "POLICYBOT_RATE_LIMIT_PER_MINUTE": "10000",
            "POLICYBOT_TELEGRAM_RATE_LIMITER": "false",
            **env,
        }
        self.proc: subprocess.Popen | None = None
        self.logs: list[str] = []  # stderr of every run
        self._log_file = None

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.data_dir / f"stderr-{len(self.logs)}.log", "w+", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--webhook"], env=self.env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=self._log_file, text=True,
        )
        self.logs.append("")

    def _collect(self) -> None:
        if self._log_file is not None:
            self._log_file.flush()
            self._log_file.seek(0)
            self.logs[-1] = self._log_file.read()

    @property
    def log(self) -> str:
        self._collect()
        return "\n".join(self.logs)

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """A policybot command on this host (same data directory, same database)."""
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._collect()

    def terminate(self, timeout: float = 30) -> float:
        """SIGTERM; returns how long the process took to exit (SIGKILL after ``timeout``)."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        t = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._collect()
        return time.monotonic() - t

    async def aterminate(self, timeout: float = 30) -> float:
        """terminate() without blocking the event loop (the stand-in Bot API runs on it)."""
        return await asyncio.to_thread(self.terminate, timeout)

    async def akill(self) -> None:
        await asyncio.to_thread(self.kill)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def ready(self, http: aiohttp.ClientSession, timeout: float = 120) -> dict:
        """Wait until /health/ready says 200; its payload."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited ({self.proc.returncode}): {self.log[-3000:]}")
            try:
                async with http.get(f"{self.base}/health/ready", timeout=aiohttp.ClientTimeout(total=3)) as r:
                    if r.status == 200:
                        return await r.json()
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name} never became ready: {self.log[-3000:]}")

    async def metrics(self, http: aiohttp.ClientSession) -> dict[str, float]:
        async with http.get(f"{self.base}/metrics") as r:
            assert r.status == 200
            text = await r.text()
        out: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out


@dataclass
class Delivery:
    update: dict
    attempts: list[tuple[str, int, float]] = field(default_factory=list)  # (replica, status or -1, seconds)
    acknowledged: float = 0.0


class TelegramLike:
    """Delivers updates the way Telegram does: to the load balancer (round robin over the
    replicas), and again after a non-2xx answer, a reset or a timeout."""

    def __init__(self, replicas: list[Replica], http: aiohttp.ClientSession, timeout: float = 5.0, backoff: float = 0.3) -> None:
        self.replicas, self.http = replicas, http
        self.timeout, self.backoff = timeout, backoff
        self._rr = itertools.count()
        self._ids = itertools.count(1)
        self._msg = itertools.count(5000)
        self.deliveries: list[Delivery] = []

    def text(self, text: str, chat_id: int, user_id: int | None = None) -> dict:
        user_id = user_id or chat_id
        msg = {
            "message_id": next(self._msg),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Kari"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Kari"},
            "text": text,
        }
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"update_id": next(self._ids), "message": msg}

    def press(self, data: str, sent: dict, user_id: int) -> dict:
        from .fake_bot_api import BOT_USER

        message = {"message_id": 777, "date": 0, "chat": {"id": int(sent["chat_id"]), "type": "private"}, "from": BOT_USER, "text": sent["text"]}
        return {
            "update_id": next(self._ids),
            "callback_query": {"id": str(next(self._msg)), "from": {"id": user_id, "is_bot": False, "first_name": "Kari"}, "chat_instance": "ci", "data": data, "message": message},
        }

    async def post_once(self, update: dict, to: Replica) -> int:
        async with self.http.post(
            f"{to.base}/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            timeout=aiohttp.ClientTimeout(total=self.timeout),
        ) as r:
            return r.status

    async def deliver(self, update: dict, to: Replica | None = None, give_up: float = 120.0) -> Delivery:
        d = Delivery(update)
        self.deliveries.append(d)
        t0 = time.monotonic()
        while time.monotonic() - t0 < give_up:
            target = to or self.replicas[next(self._rr) % len(self.replicas)]
            to = None  # a retry goes wherever the balancer sends it
            t = time.monotonic()
            try:
                status = await self.post_once(update, target)
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError):
                status = -1
            d.attempts.append((target.name, status, time.monotonic() - t))
            if 200 <= status < 300:
                d.acknowledged = time.monotonic()
                return d
            await asyncio.sleep(self.backoff)
        raise AssertionError(f"update {update['update_id']} was never acknowledged: {d.attempts[-5:]}")

    async def burst(self, updates: list[dict], rate: float) -> list[Delivery]:
        """Deliver ``updates`` at ``rate`` per second, each retried until acknowledged."""
        tasks = []
        for i, u in enumerate(updates):
            tasks.append(asyncio.create_task(self.deliver(u)))
            if i + 1 < len(updates):
                await asyncio.sleep(1.0 / rate)
        return list(await asyncio.gather(*tasks))


def answered(api, chats: list[int]) -> dict[int, int]:
    """Replies per chat (each update of a burst has its own chat)."""
    return {c: api.sent_per_chat.get(c, 0) for c in chats}


async def until_answered(api, chats: list[int], timeout: float) -> dict[int, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(api.sent_per_chat.get(c, 0) >= 1 for c in chats):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # a late second answer would show here
    return answered(api, chats)
