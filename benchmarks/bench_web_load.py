"""Web load benchmark: N simulated browsers against the real `policybot web` process on
127.0.0.1, each asking M new questions through the JSON API (POST /api/ask with its own
cookie and CSRF token; each waits for its answer before the next question), and, in the
same run, the Telegram path (benchmarks/bench_load.py: the bot with long polling against
the stand-in Bot API, rate limiter off) on the same question mix. Reports answers/s,
p50/p95/p99 from request to answer, and errors (any status but 200, or no passage list).

    .venv/bin/python benchmarks/bench_web_load.py --users 50 --questions 2 [--index-dir .policybot/index] [--out docs/bench-web-load.json]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_load import QUESTION_FILES, Faults, _free_port, pct, scenario  # noqa: E402


async def web_scenario(users: int, per_user: int, index_dir: Path, data_dir: Path, timeout: float) -> dict:
    import aiohttp
    import psutil

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")},
        "POLICYBOT_INDEX_DIR": str(index_dir),
        "POLICYBOT_DATA_DIR": str(data_dir),
        "POLICYBOT_RATE_LIMIT_PER_MINUTE": "1000",
        "POLICYBOT_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "web", "--port", str(port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    questions = [json.loads(line)["question"] for f in QUESTION_FILES for line in (ROOT / f).open(encoding="utf-8") if line.strip()]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    try:
        async with aiohttp.ClientSession() as probe:
            while True:
                try:
                    async with probe.get(base + "/health") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                if proc.poll() is not None:
                    raise SystemExit(proc.stderr.read())
                await asyncio.sleep(0.2)

        async def user(u: int) -> None:
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=timeout)) as http:
                async with http.get(base + "/api/session") as r:
                    csrf = (await r.json())["csrf"]
                for k in range(per_user):
                    n = u * per_user + k
                    q = questions[n % len(questions)]
                    if n >= len(questions):  # a new text, as in bench_load
                        q = f"{q} (spørsmål {u}-{k})"
                    t = time.monotonic()
                    try:
                        async with http.post(base + "/api/ask", json={"question": q}, headers={"X-CSRF-Token": csrf}) as r:
                            body = await r.json()
                            ok = r.status == 200 and body.get("kind") in ("answer", "not_covered")
                            key = str(r.status) if not ok else ""
                    except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                        ok, key = False, type(e).__name__
                    if ok:
                        latencies.append(time.monotonic() - t)
                    else:
                        errors[key] = errors.get(key, 0) + 1

        bot = psutil.Process(proc.pid)
        cpu0 = sum(bot.cpu_times()[:2])
        t0 = time.monotonic()
        await asyncio.gather(*(user(u) for u in range(users)))
        wall = time.monotonic() - t0
        bot_cpu = sum(bot.cpu_times()[:2]) - cpu0
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {
        "scenario": "web: new questions through POST /api/ask",
        "questions": users * per_user,
        "answered": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "throughput_per_s": round(len(latencies) / wall, 1),
        "bot_cpu_ms_per_answer": round(1000 * bot_cpu / max(1, len(latencies)), 1),
        "p50_s": round(pct(latencies, 0.50), 2),
        "p95_s": round(pct(latencies, 0.95), 2),
        "p99_s": round(pct(latencies, 0.99), 2),
    }


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--questions", type=int, default=2)
    ap.add_argument("--index-dir", type=Path, default=ROOT / ".policybot/index")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        web = await web_scenario(args.users, args.questions, args.index_dir, Path(tmp) / "web", args.timeout)
        print(json.dumps(web, ensure_ascii=False), flush=True)
        telegram = await scenario(
            "telegram: new questions, rate limiter off", Faults(), args.users, args.questions, args.index_dir, Path(tmp) / "tg", args.timeout, True, False
        )
        telegram["errors"] = telegram["unanswered"] + telegram["duplicated"]
        print(json.dumps(telegram, ensure_ascii=False), flush=True)
    rows = [web, telegram]
    ratio = web["p95_s"] / telegram["p95_s"] if telegram["p95_s"] else float("nan")
    cols = ["questions", "answered", "errors", "throughput_per_s", "bot_cpu_ms_per_answer", "p50_s", "p95_s", "p99_s"]
    print(f"\n{args.users} users × {args.questions} new questions each")
    print("| path | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for r in rows:
        print(f"| {r['scenario']} | " + " | ".join(str(r[c]) for c in cols) + " |")
    print(f"\nweb p95 / Telegram p95 = {ratio:.2f} (the issue asks for at most 1.5)")
    if args.out:
        args.out.write_text(json.dumps({"rows": rows, "p95_ratio": round(ratio, 2)}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    asyncio.run(main())
