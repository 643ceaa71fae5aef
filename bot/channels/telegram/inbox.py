"""Telegram updates through the durable inbox (:mod:`bot.inbox`): the webhook route and
long polling take the same path. An update is committed to the store before the webhook
answers 200 (polling: before the next ``getUpdates`` acknowledges it), processed by
python-telegram-bot's handlers, and marked done after its reply was sent.

Also here: exactly one replica registers the webhook with Telegram.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import secrets
import socket

from telegram import Update
from telegram.ext import Application

from ...inbox import Inbox
from ...services import Services
from ...state import InboxItem, StoreError

log = logging.getLogger("policybot.inbox")
WEBHOOK_KEY = "webhook"  # "<fingerprint of URL and secret> <replica that registered it>"


def replica_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class TelegramInbox:
    """The inbox bound to one python-telegram-bot ``Application``."""

    def __init__(self, services: Services, application: Application, store_failed: set[int]) -> None:
        settings = services.settings
        self.services = services
        self.application = application
        self.store_failed = store_failed  # update ids whose handler failed on the store
        self.owner = replica_id()
        self.inbox = Inbox(services.store, self.owner, self._handle, lease=settings.inbox_lease_seconds, concurrency=settings.concurrent_updates)
        self._consumer: asyncio.Task | None = None

    async def _handle(self, item: InboxItem) -> None:
        update = Update.de_json(json.loads(item.payload), self.application.bot)
        if update is None:
            return
        self.store_failed.discard(update.update_id)
        await self.application.process_update(update)
        if update.update_id in self.store_failed:
            self.store_failed.discard(update.update_id)
            raise StoreError("the state store failed while the update was processed")

    async def deliver(self, update_id: int, payload: str) -> str:
        return await self.inbox.deliver(update_id, payload)

    def start(self, polling: bool = False) -> None:
        self.inbox.start()
        if polling:
            self._consumer = asyncio.create_task(self._consume(), name="polling-to-inbox")

    async def _consume(self) -> None:
        """Long polling: the Updater puts what it fetched on the application's queue; each
        update goes into the inbox (retried while the store is down) like a webhook's."""
        queue = self.application.update_queue
        while True:
            update = await queue.get()
            if not isinstance(update, Update):
                continue
            payload = json.dumps(update.to_dict(), ensure_ascii=False)
            delay = 0.5
            while True:
                try:
                    await self.inbox.deliver(update.update_id, payload)
                    break
                except StoreError as e:
                    log.warning("update %s waits for the state store: %s", update.update_id, e)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)

    async def drain(self, timeout: float):
        if self._consumer is not None:
            # what polling fetched (and acknowledged) goes into the inbox before we stop
            queue = self.application.update_queue
            for _ in range(40):
                if queue.empty():
                    break
                await asyncio.sleep(0.05)
            self._consumer.cancel()
            await asyncio.gather(self._consumer, return_exceptions=True)
        report = await self.inbox.drain(timeout)
        log.info("stopped: %d updates finished, %d released (%.1f s)", report.finished, report.released, report.seconds)
        return report

    def pending(self) -> int:
        return self.inbox.in_hand


async def claim_webhook(services: Services, url: str, secret: str, owner: str) -> bool:
    """True when this replica is the one to register the webhook. With a shared store
    the first replica with this URL and secret registers it; later replicas with the same
    do not, and one with a different URL or secret does not take the webhook from the
    others (it says so loudly). A single process (SQLite) always registers."""
    if not services.shared:
        return True
    fingerprint = hashlib.sha256(f"{url}\0{secret}".encode()).hexdigest()[:16]
    stored = await services.store.init_meta(WEBHOOK_KEY, f"{fingerprint} {owner}")
    if stored == f"{fingerprint} {owner}":
        return True
    if stored.split()[0] == fingerprint:
        log.info("the webhook is registered already (same URL and secret): not registering again")
        return False
    log.error(
        "this replica's POLICYBOT_WEBHOOK_URL or POLICYBOT_WEBHOOK_SECRET differs from the webhook the other replicas "
        "registered: NOT registering (it would take the webhook from all of them). Fix the configuration, or delete "
        "the store's 'webhook' meta row to register a new address on purpose"
    )
    return False
