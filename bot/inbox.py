"""The durable inbox: every update is committed to the state store before it is
acknowledged, taken with a lease, and marked done only after its reply was sent.

* ``deliver()`` is what a channel calls for each update it receives (webhook request,
  long-polling batch). It commits the update and, when this replica got the lease, starts
  processing it. It raises StoreError when the store cannot record it: the webhook then
  answers 503 and Telegram delivers the update again.
* A sweep takes updates nobody holds: those another replica released, and those whose
  lease expired because the replica holding them died.
* Leases in hand are renewed while their work runs, so a slow answer is never taken over.
* An update whose processing failed because the store was unreachable is retried by the
  same replica once the store answers again (it keeps the lease): the user never sees
  «Beklager» for an outage.
* ``drain()`` stops taking work, waits a bounded time for the updates in hand, and gives
  back the rest (a reply already on its way to Telegram gets a moment more).

Replies are sent at least once and, outside one narrow window, exactly once: a reply sent
whose ``done`` mark never reaches the store (the process dies in the milliseconds between,
or the store stays unreachable for longer than the lease while the mark waits) is sent
again by the replica that takes the update over. docs/operations.md says how small it is.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from . import metrics
from .state import InboxItem, StateStore, StoreError

log = logging.getLogger("policybot.inbox")

MAX_ATTEMPTS = 6  # an update taken this often (each time a replica died on it) is dropped
SWEEP_SECONDS = 0.5
DELIVER_TIMEOUT = 1.5  # the webhook answers 503 within about this long when the store hangs

SEND_GRACE = 2.0  # at the drain deadline, a reply on its way to Telegram gets this much more

Handler = Callable[[InboxItem], Awaitable[None]]


class _Work:
    """What the drain needs to know about one update in hand."""

    __slots__ = ("sending",)

    def __init__(self) -> None:
        self.sending = 0


_current: ContextVar[_Work | None] = ContextVar("inbox_work", default=None)


@contextmanager
def sending():
    """Channels wrap each outgoing call in this: a drain that runs out of time lets an
    update whose reply is on its way finish instead of cutting it off (a reply cut off
    after Telegram received it would be sent again by the replica that takes over)."""
    work = _current.get()
    if work is not None:
        work.sending += 1
    try:
        yield
    finally:
        if work is not None:
            work.sending -= 1


class StoreWatch:
    """One log line when the store becomes unreachable and one when it is back, instead of
    one per refused update."""

    def __init__(self) -> None:
        self.down_since: float | None = None
        self.refused = 0

    def failed(self, error: BaseException) -> None:
        self.refused += 1
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.warning("the state store is unreachable (%s): new updates get 503 until it is back, so Telegram delivers them again", error)

    def ok(self) -> None:
        if self.down_since is not None:
            log.warning("the state store is reachable again after %.1f s; %d deliveries were refused meanwhile", time.monotonic() - self.down_since, self.refused)
            self.down_since, self.refused = None, 0


class Draining(Exception):
    """The replica is stopping and takes no new updates."""


@dataclass
class DrainReport:
    finished: int
    released: int
    seconds: float


class Inbox:
    def __init__(self, store: StateStore, owner: str, handle: Handler, *, lease: float, concurrency: int) -> None:
        self.store, self.owner, self.handle = store, owner, handle
        self.lease, self.concurrency = lease, concurrency
        self._tasks: dict[int, asyncio.Task] = {}
        self._work: dict[int, _Work] = {}
        self._stop = asyncio.Event()
        self._background: list[asyncio.Task] = []
        self._unfinished: set[int] = set()  # stopped by the drain: to be given back
        self.draining = False
        self.started = False  # deliveries before start() get 503 (the listener opens first)
        self.finished = 0  # processed and marked done by this replica since start
        self.watch = StoreWatch()

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.started = True
        self._background = [asyncio.create_task(self._sweep(), name="inbox-sweep"), asyncio.create_task(self._renew(), name="inbox-renew")]

    @property
    def in_hand(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float) -> DrainReport:
        """Take nothing new; finish what is in hand within ``timeout`` seconds; release the
        rest to the inbox (another replica takes it at once)."""
        t0 = time.monotonic()
        self.draining = True
        self._stop.set()
        before = self.finished
        pending = list(self._tasks.values())
        if pending:
            await asyncio.wait(pending, timeout=timeout)
        on_the_way = [t for uid, t in self._tasks.items() if not t.done() and self._work.get(uid) and self._work[uid].sending]
        if on_the_way:
            await asyncio.wait(on_the_way, timeout=SEND_GRACE)
        left = [uid for uid, task in self._tasks.items() if not task.done()]
        for uid in left:
            self._tasks[uid].cancel()
        if left:
            await asyncio.wait([self._tasks[u] for u in left if u in self._tasks], timeout=1.0)
        left = sorted(set(left) | self._unfinished)
        if left:
            try:
                released = await asyncio.wait_for(self.store.inbox_release(self.owner, left), 2.0)
            except (StoreError, asyncio.TimeoutError) as e:
                released = 0
                log.warning("could not release %d updates (%s): they are taken over when their lease expires", len(left), e)
            metrics.RELEASED.inc(released)
        else:
            released = 0
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        return DrainReport(self.finished - before, released, time.monotonic() - t0)

    # --- receiving ---------------------------------------------------------------------------

    async def deliver(self, update_id: int, payload: str) -> str:
        """Commit an update (new, re-delivered or duplicate) and start it if this replica
        got its lease. Returns the store's verdict; raises Draining or StoreError."""
        if self.draining or not self.started:
            raise Draining()
        try:
            state = await asyncio.wait_for(self.store.inbox_receive(update_id, payload, self.owner, self.lease), DELIVER_TIMEOUT)
        except asyncio.TimeoutError as e:
            metrics.STORE_ERRORS.inc()
            error = StoreError(f"no answer within {DELIVER_TIMEOUT} s")
            self.watch.failed(error)
            raise error from e
        except StoreError as e:
            metrics.STORE_ERRORS.inc()
            self.watch.failed(e)
            raise
        self.watch.ok()
        if self.draining and state in ("new", "taken"):
            # the drain began while this was being committed: give it straight back
            await self._give_back(update_id)
            return state
        if state == "new":
            metrics.RECEIVED.inc()
            self._spawn(InboxItem(update_id, payload, 1, time.time()))
        elif state == "taken":
            metrics.RETRIED.inc()
            self._spawn(InboxItem(update_id, payload, 2, time.time()))
        else:
            metrics.DUPLICATE.labels(state).inc()
        return state

    async def _give_back(self, update_id: int) -> None:
        try:
            metrics.RELEASED.inc(await self.store.inbox_release(self.owner, [update_id]))
        except StoreError:
            pass  # taken over when its lease expires

    def _spawn(self, item: InboxItem) -> None:
        if item.update_id in self._tasks:  # already in hand here
            return
        self._tasks[item.update_id] = asyncio.create_task(self._process(item), name=f"update-{item.update_id}")
        metrics.IN_HAND.set(len(self._tasks))

    # --- processing --------------------------------------------------------------------------

    async def _process(self, item: InboxItem) -> None:
        work = self._work[item.update_id] = _Work()
        _current.set(work)  # this task's own context: the channel's sends mark it
        try:
            metrics.STAGE.labels("queue").observe(max(0.0, time.time() - item.received))
            if item.attempts > MAX_ATTEMPTS:
                log.error("update %s was taken %d times without finishing: dropped", item.update_id, item.attempts)
            else:
                if not await self._handle_until_done(item):
                    return  # another replica took it over meanwhile: it answers
            await self._mark_done(item.update_id)
        except asyncio.CancelledError:
            self._unfinished.add(item.update_id)  # drain() gives it back
        except Exception:  # noqa: BLE001 - the handler's own error handler told the user
            log.exception("update %s failed outside its handlers", item.update_id)
            await self._mark_done(item.update_id)
        finally:
            self._tasks.pop(item.update_id, None)
            self._work.pop(item.update_id, None)
            metrics.IN_HAND.set(len(self._tasks))

    async def _handle_until_done(self, item: InboxItem) -> bool:
        """Run the handler; while it fails on the store, try again once the store answers
        and this replica still holds the lease. False when the lease passed to another
        replica meanwhile (an outage longer than the lease): that one answers it."""
        delay = 0.5
        while True:
            try:
                await self.handle(item)
                return True
            except StoreError as e:
                metrics.STORE_ERRORS.inc()
                if self.draining:
                    raise asyncio.CancelledError from e  # the drain releases it
                self.watch.failed(e)
                log.debug("update %s waits for the state store: %s", item.update_id, e)
                metrics.RETRIED.inc()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 4.0)
            try:
                if not await self.store.inbox_renew(self.owner, [item.update_id], self.lease):
                    log.info("update %s: its lease passed to another replica during the outage", item.update_id)
                    return False
            except StoreError:
                pass  # still down: the next attempt will say so again

    async def _mark_done(self, update_id: int) -> None:
        """Until the store has it (the lease stays renewed meanwhile): a reply whose done
        mark is lost would be sent again by whoever takes the update over."""
        delay = 0.2
        while True:
            try:
                still_mine = await self.store.inbox_done(update_id, self.owner)
                break
            except StoreError as e:
                metrics.STORE_ERRORS.inc()
                self.watch.failed(e)
                log.debug("update %s answered, but cannot be marked done yet: %s", update_id, e)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        if not still_mine:
            log.warning("update %s: the lease had passed to another replica before it was done", update_id)
        self.finished += 1
        metrics.ANSWERED.inc()

    # --- background --------------------------------------------------------------------------

    async def _sweep(self) -> None:
        while not self._stop.is_set():
            free = self.concurrency - len(self._tasks)
            if free > 0:
                try:
                    for item in await self.store.inbox_lease(self.owner, min(free, 32), self.lease, in_hand=list(self._tasks)):
                        if item.update_id in self._tasks:
                            continue
                        metrics.RETRIED.inc()
                        log.info("took over update %s (attempt %d)", item.update_id, item.attempts)
                        self._spawn(item)
                except StoreError:
                    metrics.STORE_ERRORS.inc()
            try:
                await asyncio.wait_for(self._stop.wait(), SWEEP_SECONDS)
            except asyncio.TimeoutError:
                pass

    async def _renew(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), self.lease / 3)
            except asyncio.TimeoutError:
                pass
            if self._tasks and not self._stop.is_set():
                try:
                    await self.store.inbox_renew(self.owner, list(self._tasks), self.lease)
                except StoreError:
                    metrics.STORE_ERRORS.inc()
