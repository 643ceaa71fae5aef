"""The state store, every test on both SQLite and a real PostgreSQL server."""
from __future__ import annotations

import asyncio
import os
import stat
import time

import pytest

from bot.privacy import load_salt, user_hash
from bot.state import AnswerRecord, Prefs, open_store
from bot.state.migrations import LATEST


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request, tmp_path):
    if request.param == "postgres":
        url = request.getfixturevalue("pg_db")
        s = open_store(url, None, answer_ttl=3600, retention=86400)
    else:
        s = open_store(None, tmp_path / "state.sqlite", answer_ttl=3600, retention=86400)
    await s.open()
    yield s
    await s.close()


async def test_migrations_are_applied_once_and_recorded(store):
    assert await store.schema_version() == LATEST
    await store.open()  # opening again applies nothing twice
    assert await store.schema_version() == LATEST


async def test_answers_round_trip_and_expire_by_ttl(store):
    a = AnswerRecord("Vil Ap fjerne kontantstøtten?", Prefs(doc_id="ap-program-2025-2029"), "b1", "u1", "private", True, "high", ("x#1", "x#2"))
    await store.save_answer("tok1", a)
    got = await store.get_answer("tok1")
    assert got.question == a.question and got.prefs == a.prefs and got.passages == ("x#1", "x#2") and got.confidence == "high"
    old = AnswerRecord("gammelt", Prefs(), "b1", created=time.time() - 7200)
    await store.save_answer("tok2", old)
    assert await store.get_answer("tok2") is None  # past the TTL
    assert await store.get_answer("nope") is None


async def test_preferences_follow_the_user(store):
    assert await store.get_prefs("u1") == Prefs()
    await store.set_prefs("u1", Prefs(commitments_only=True))
    await store.set_prefs("u1", Prefs(doc_id="d", commitments_only=True))
    assert await store.get_prefs("u1") == Prefs(doc_id="d", commitments_only=True)


async def test_an_update_is_claimed_once_even_concurrently(store):
    results = await asyncio.gather(*[store.claim_update(4711) for _ in range(8)])
    assert results.count(True) == 1


async def test_rate_counter_counts_per_user(store):
    counts = [await store.count_request("u1") for _ in range(3)]
    assert counts == [1, 2, 3]
    assert await store.count_request("u2") == 1


async def test_votes_need_a_known_answer_and_replace_each_other(store):
    await store.save_answer("tok", AnswerRecord("q", Prefs(), "b", passages=("c#1",)))
    assert not await store.vote("unknown", "u1", True)
    assert await store.vote("tok", "u1", True)
    assert await store.vote("tok", "u1", False)
    s = await store.summary()
    assert (s.up, s.down) == (0, 1) and s.most_downvoted == [("c#1", 1, 0)]


async def test_the_current_build_is_shared(store):
    assert await store.get_build() is None
    await store.set_build("20260101T000000Z-abc")
    assert await store.get_build() == "20260101T000000Z-abc"


async def test_the_inbox_keeps_an_update_until_it_is_answered(store):
    """received/leased/done: a second delivery of a held update is not taken again, one
    whose lease expired is taken over, a done one is dropped, and only the owner's lease
    is renewed or released."""
    assert await store.inbox_receive(1, '{"update_id": 1}', "A", lease=30) == "new"
    assert await store.inbox_receive(1, '{"update_id": 1}', "B", lease=30) == "held"  # A holds it
    assert await store.inbox_lease("B", 10, lease=30) == []  # nothing free
    assert await store.inbox_renew("B", [1], lease=30) == 0  # not B's
    assert await store.inbox_done(1, "A") is True
    assert await store.inbox_receive(1, '{"update_id": 1}', "B", lease=30) == "done"
    assert await store.inbox_counts() == {"received": 0, "leased": 0, "done": 1}

    # A takes 2 and dies: once the lease expires, B takes it over (from a sweep or a re-delivery)
    assert await store.inbox_receive(2, '{"update_id": 2}', "A", lease=0.2) == "new"
    assert await store.inbox_receive(3, '{"update_id": 3}', "A", lease=0.2) == "new"
    assert await store.inbox_lease("B", 10, lease=30) == []
    await asyncio.sleep(0.3)
    assert await store.inbox_receive(3, '{"update_id": 3}', "B", lease=30) == "taken"
    (item,) = await store.inbox_lease("B", 10, lease=30)
    assert (item.update_id, item.payload, item.attempts) == (2, '{"update_id": 2}', 2)
    # A comes back late and finishes 2 anyway: marked done, but A is told it had lost it
    assert await store.inbox_done(2, "A") is False
    assert await store.inbox_done(2, "B") is False  # already done: nobody answers a third time

    # released work is taken again, after the delay
    assert await store.inbox_release("A", [3]) == 0  # B holds 3, not A
    assert await store.inbox_release("B", [3], delay=0.2) == 1
    assert await store.inbox_lease("A", 10, lease=30) == []
    await asyncio.sleep(0.3)
    assert [i.update_id for i in await store.inbox_lease("A", 10, lease=30)] == [3]
    assert await store.inbox_renew("A", [3], lease=30) == 1
    assert await store.inbox_counts() == {"received": 0, "leased": 1, "done": 2}

    # A's commit of 4 went through but A never heard (a timeout): A's sweep finds it
    assert await store.inbox_receive(4, "{}", "A", lease=30) == "new"
    assert await store.inbox_lease("A", 10, lease=30, in_hand=[3, 4]) == []
    assert await store.inbox_lease("B", 10, lease=30, in_hand=[]) == []  # not B's
    assert [i.update_id for i in await store.inbox_lease("A", 10, lease=30, in_hand=[3])] == [4]
    assert [i.update_id for i in await store.inbox_lease("A", 10, lease=30, in_hand=[])] == [3, 4]


async def test_concurrent_leases_never_hand_out_the_same_update(store):
    for uid in range(100, 140):
        await store.inbox_receive(uid, "{}", "gone", lease=-1)  # free to take
    batches = await asyncio.gather(*[store.inbox_lease(f"r{n}", 7, lease=30) for n in range(8)])
    taken = [i.update_id for b in batches for i in b]
    assert sorted(taken) == list(range(100, 140))  # each exactly once


async def test_an_answered_update_forgets_its_text_and_is_pruned_after_a_week(store):
    await store.inbox_receive(7, '{"text": "hemmelig"}', "A", lease=30)
    await store.inbox_done(7, "A")
    assert await store.inbox_receive(7, "{}", "A", lease=30) == "done"
    await store.prune(now=time.time() + 8 * 86400)
    assert await store.inbox_counts() == {"received": 0, "leased": 0, "done": 0}


async def test_blobs_and_shared_settings(store):
    data = bytes(range(256)) * 4000  # ~1 MB, every byte value
    assert await store.put_blob("build/x", data) is True
    assert await store.put_blob("build/x", b"other") is False  # content-named: first wins
    assert await store.get_blob("build/x") == data and await store.has_blob("build/x")
    assert await store.get_blob("nope") is None and not await store.has_blob("nope")
    assert await store.init_meta("salt", "first") == "first"
    assert await store.init_meta("salt", "second") == "first"
    await store.set_meta("k", "v")
    await store.delete_meta("k")
    assert await store.get_meta("k") is None
    await store.ping()


async def test_a_schema_newer_than_the_code_is_refused_in_one_line(store):
    from bot.state import SchemaTooNew

    await store._change("INSERT INTO schema_version (version, applied, note) VALUES (?, ?, ?)", (LATEST + 1, time.time(), "from the future"))
    with pytest.raises(SchemaTooNew, match=f"skjemaversjon {LATEST + 1}, nyere enn denne versjonen av boten kjenner .{LATEST}.") as e:
        await store.open()
    assert "\n" not in str(e.value)


async def test_retention_deletes_old_questions_and_votes(store):
    long_ago = time.time() - 2 * 86400
    await store.save_answer("old", AnswerRecord("gammelt spørsmål", Prefs(), "b", found=False, created=long_ago))
    await store.save_answer("new", AnswerRecord("nytt spørsmål", Prefs(), "b", found=False))
    await store.vote("new", "u1", True)
    deleted = await store.prune()
    assert deleted >= 1
    s = await store.summary()
    assert s.questions == 1 and [q for q, _ in s.nothing_found] == ["nytt spørsmål"]


def test_the_salt_is_random_private_and_stable(tmp_path):
    a = load_salt(tmp_path)
    assert len(a) >= 32 and a == load_salt(tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path / "salt").st_mode) == 0o600
    other = load_salt(tmp_path / "elsewhere")
    assert a != other
    assert user_hash(a, 555) != user_hash(other, 555) and user_hash(a, 555) == user_hash(a, "555")
    assert load_salt(tmp_path, "configured") == b"configured"


async def test_a_restarted_single_process_keeps_preferences_and_vis_flere(tmp_path, retriever):
    """The embedded default: SQLite in the data directory survives a restart."""
    from bot.services import build_services
    from bot.settings import Settings
    from bot.views import AnswerPage

    settings = Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "unused")
    first = build_services(settings, retriever)
    await first.open()
    user = first.engine.user(555)
    await first.engine.set_commitments(user, True)
    answer = await first.engine.ask("Hva vil dere gjøre for politiet?", user)
    assert isinstance(answer, AnswerPage) and answer.scope == "bare løfter"
    await first.close()

    second = build_services(settings, retriever)  # a new process, as far as state goes
    await second.open()
    try:
        page = await second.engine.press_data(f"p:{answer.token}:1", user)
        assert isinstance(page, AnswerPage) and page.passages[0].number == 4
        assert all(p.chunk.kind == "commitment" for p in page.passages)
        assert (await second.engine.prefs(second.engine.user(555))).commitments_only
    finally:
        await second.close()


async def test_a_build_named_by_an_older_version_is_replaced_by_this_replicas(tmp_path, pg_db, retriever):
    """Before builds were shared, the store named a build each host kept for itself: a
    replica of this version publishes its own instead of failing to start."""
    from bot.services import build_services
    from bot.settings import Settings

    s = build_services(Settings(data_dir=tmp_path / "a", index_dir=tmp_path / "unused", database_url=pg_db, user_salt="s"), retriever)
    await s.store.open()
    await s.store.set_build("20260101T000000Z-abc123")
    await s.store.close()
    await s.open()
    try:
        assert await s.store.get_build() == retriever.build and s.serves_published
    finally:
        await s.close()


async def test_a_replica_that_cannot_follow_a_build_does_not_reload_its_index(services):
    """The store names a build this replica's index directory does not publish: following
    must cost a file read, not an index load every few seconds."""
    before = services.retriever
    await services.store.set_build("20990101T000000Z-elsewhere")
    assert await services.follow() is False
    assert await services.follow() is False
    assert services.retriever is before


async def test_replicas_on_one_database_need_the_same_salt(tmp_path, pg_db, retriever):
    """Replicas on one database hash users alike or do not start: without
    POLICYBOT_USER_SALT, or with one the others do not use, a replica refuses in one line.
    The database holds a fingerprint, never the salt."""
    from bot.services import build_services
    from bot.settings import Settings
    from bot.state import StoreError

    def replica(name: str, **kw):
        return build_services(Settings(data_dir=tmp_path / name, index_dir=tmp_path / "unused", database_url=pg_db, **kw), retriever)

    a, b = replica("a", user_salt="the shared secret"), replica("b", user_salt="the shared secret")
    await a.open()
    await b.open()
    try:
        assert a.engine.user(555) == b.engine.user(555)
        dump = str(await a.store._fetch("SELECT key, value FROM meta"))
        assert "the shared secret" not in dump
    finally:
        await a.close()
        await b.close()
    for kw, expected in (({"user_salt": "a different secret"}, "POLICYBOT_USER_SALT er ikke det samme"), ({}, "må POLICYBOT_USER_SALT være satt")):
        c = replica("c", **kw)
        with pytest.raises(StoreError, match=expected) as e:
            await c.open()
        assert "\n" not in str(e.value) and "secret" not in str(e.value)
        await c.close()


async def test_exactly_one_replica_registers_the_webhook(tmp_path, pg_db, retriever, caplog):
    from bot.services import build_services
    from bot.settings import Settings
    from bot.channels.telegram.inbox import claim_webhook

    s = build_services(Settings(data_dir=tmp_path / "a", index_dir=tmp_path / "unused", database_url=pg_db, user_salt="s"), retriever)
    await s.open()
    try:
        url = "https://bot.example.org/telegram"
        claims = await asyncio.gather(*[claim_webhook(s, url, "secret", f"replica-{n}") for n in range(5)])
        assert claims.count(True) == 1
        assert await claim_webhook(s, url, "secret", "restarted") is False  # registered already
        assert await claim_webhook(s, "https://typo.example.org/telegram", "secret", "misconfigured") is False
        assert "NOT registering" in caplog.text
    finally:
        await s.close()


async def test_pruning_runs_on_a_schedule(services):
    from bot.server import prune_regularly

    await services.store.save_answer("old", AnswerRecord("gammelt", Prefs(), "b", created=time.time() - 400 * 86400))
    stop = asyncio.Event()
    task = asyncio.create_task(prune_regularly(services, stop, every=0.1))
    try:
        for _ in range(100):
            if (await services.store.summary()).questions == 0:
                break
            await asyncio.sleep(0.05)
        assert (await services.store.summary()).questions == 0
    finally:
        stop.set()
        await task


async def test_readiness_tells_the_truth(services):
    """Ready only when the store answers and this replica serves the published build;
    draining is never ready. (A stopped database: tests/test_replica_faults.py.)"""
    from bot.health import readiness

    draining = asyncio.Event()
    status, body = await readiness(services, draining)
    assert status == 200 and body["build"] == services.retriever.build
    await services.store.set_meta("build", "f4-published-elsewhere")
    status, body = await readiness(services, draining)
    assert status == 503 and body["published"] == "f4-published-elsewhere"
    await services.store.set_meta("build", services.retriever.build)
    draining.set()
    assert (await readiness(services, draining))[0] == 503
