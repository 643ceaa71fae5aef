"""The durable inbox on both stores: delivered updates are processed once, duplicates
dropped, a dead replica's updates taken over, store failures retried, and a drain that
finishes or gives back every update in hand."""
from __future__ import annotations

import asyncio

import pytest

from bot.inbox import Draining, Inbox
from bot.state import StoreError, open_store


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request, tmp_path):
    if request.param == "postgres":
        s = open_store(request.getfixturevalue("pg_db"), None, answer_ttl=3600, retention=86400)
    else:
        s = open_store(None, tmp_path / "state.sqlite", answer_ttl=3600, retention=86400)
    await s.open()
    yield s
    await s.close()


class Worker:
    """A handler that records what it processed; it can be made slow or fail."""

    def __init__(self, delay: float = 0.0) -> None:
        self.done: list[int] = []
        self.delay = delay
        self.fail_store = 0  # the next N calls raise StoreError

    async def __call__(self, item) -> None:
        if self.fail_store:
            self.fail_store -= 1
            raise StoreError("PostgreSQL: connection refused")
        await asyncio.sleep(self.delay)
        self.done.append(item.update_id)


async def _until(cond, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if cond():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_each_update_is_processed_once_and_duplicates_are_dropped(store):
    w = Worker()
    inbox = Inbox(store, "A", w, lease=10, concurrency=8)
    with pytest.raises(Draining):  # not started yet: the webhook says 503
        await inbox.deliver(1, '{"update_id": 1}')
    inbox.start()
    try:
        assert [await inbox.deliver(u, f'{{"update_id": {u}}}') for u in (1, 2, 3)] == ["new"] * 3
        await _until(lambda: inbox.finished == 3)
        assert await inbox.deliver(2, '{"update_id": 2}') == "done"
        await asyncio.sleep(0.3)
        assert sorted(w.done) == [1, 2, 3]
        assert (await store.inbox_counts())["done"] == 3
    finally:
        await inbox.drain(2)


async def test_a_dead_replicas_updates_are_taken_over_when_their_lease_expires(store):
    # replica A committed two updates and died before answering them
    assert await store.inbox_receive(10, "{}", "A", lease=0.5) == "new"
    assert await store.inbox_receive(11, "{}", "A", lease=0.5) == "new"
    w = Worker()
    b = Inbox(store, "B", w, lease=10, concurrency=8)
    b.start()
    assert await b.deliver(11, "{}") == "held"  # Telegram re-delivers: A's lease still runs
    try:
        await _until(lambda: sorted(w.done) == [10, 11])
        await _until(lambda: b.finished == 2)
        assert await store.inbox_counts() == {"received": 0, "leased": 0, "done": 2}
    finally:
        await b.drain(2)


async def test_a_store_failure_is_retried_not_answered_with_an_error(store):
    w = Worker()
    w.fail_store = 2
    inbox = Inbox(store, "A", w, lease=10, concurrency=8)
    inbox.start()
    try:
        await inbox.deliver(20, "{}")
        await _until(lambda: inbox.finished == 1)
        assert w.done == [20]
        assert (await store.inbox_counts())["done"] == 1
    finally:
        await inbox.drain(2)


async def test_the_drain_finishes_what_it_can_and_gives_back_the_rest(store):
    slow = Worker(delay=30)
    a = Inbox(store, "A", slow, lease=30, concurrency=8)
    a.start()
    for u in (30, 31):
        await a.deliver(u, "{}")
    report = await a.drain(0.5)
    assert (report.finished, report.released) == (0, 2)
    with pytest.raises(Draining):
        await a.deliver(32, "{}")
    # another replica takes them at once (released, not waiting for the lease)
    w = Worker()
    b = Inbox(store, "B", w, lease=30, concurrency=8)
    b.start()
    try:
        await _until(lambda: sorted(w.done) == [30, 31], timeout=5)
    finally:
        report = await b.drain(2)
    assert b.finished == 2 and report.released == 0


async def test_a_reply_on_its_way_when_the_drain_runs_out_is_let_finish(store):
    """Cutting off a reply Telegram may already have received would make the replica that
    takes the update over send it again: a send in progress at the deadline may finish."""
    from bot.inbox import sending

    async def slow_send(item) -> None:
        with sending():
            await asyncio.sleep(0.8)

    a = Inbox(store, "A", slow_send, lease=30, concurrency=8)
    a.start()
    await a.deliver(40, "{}")
    await asyncio.sleep(0.1)
    report = await a.drain(0.2)
    assert (report.finished, report.released) == (1, 0)
    assert (await store.inbox_counts())["done"] == 1


async def test_an_update_whose_lease_passed_during_an_outage_is_left_to_its_new_holder(store):
    """The store was down longer than the lease and another replica took the update over:
    the first one, retrying, must not answer it too."""
    w = Worker()
    w.fail_store = 10**6  # the store stays "down" for A until B has the update
    a = Inbox(store, "A", w, lease=0.3, concurrency=8)
    a.started = True  # taking deliveries, but no sweep or renewal: as if they failed throughout the outage
    await a.deliver(50, "{}")
    taken = []
    while not taken:  # A's lease expires; B takes the update over
        await asyncio.sleep(0.1)
        taken = await store.inbox_lease("B", 10, lease=30)
    assert [t.update_id for t in taken] == [50]
    w.fail_store = 0  # the store is back for A
    await _until(lambda: not a.in_hand)
    assert w.done == [] and a.finished == 0
    assert (await store.inbox_counts())["leased"] == 1  # B's, to answer
