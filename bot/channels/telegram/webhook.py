"""Telegram's webhook route on the server's aiohttp application.

    POST /<POLICYBOT_WEBHOOK_PATH>   updates from Telegram; the header
                                     X-Telegram-Bot-Api-Secret-Token must match
                                     POLICYBOT_WEBHOOK_SECRET, else 403

Every update is committed to the durable inbox (:mod:`bot.inbox`) before the route
answers 200, so nothing acknowledged is lost; an update delivered twice, to this replica or
another, is answered once. While the server drains (shutdown), and while the state store
cannot record an update (unreachable, a full disk: within about 2 s), new updates get 503,
so Telegram delivers them again later (to this or another replica). A body that is not a
Telegram update gets 400 and records nothing: that includes fields of the wrong type or
out of range (``date: 1e300``, an ``update_id`` past 2^63, a numeric ``text``). A secret
header that is not UTF-8 gets 403 like a wrong one.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from ... import metrics
from ...inbox import Draining
from ...services import Services
from ...state import StoreError
from .inbox import TelegramInbox

log = logging.getLogger("policybot.webhook")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_ID = 2**53  # Telegram's ids fit in 52 bits; a database BIGINT holds 2^63 - 1
MAX_DATE = 2**40  # seconds: far past any real date, within what datetime can hold
_MESSAGES = ("message", "edited_message", "channel_post", "edited_channel_post", "business_message")


def _is_update(data: object) -> bool:
    """The shape python-telegram-bot and our handlers rely on, checked before parsing."""
    if not isinstance(data, dict) or type(data.get("update_id")) is not int or not 0 <= data["update_id"] < MAX_ID:
        return False
    for key in _MESSAGES:
        message = data.get(key)
        if message is None:
            continue
        if not isinstance(message, dict):
            return False
        date = message.get("date", 0)
        if type(date) is not int or not 0 <= date < MAX_DATE:
            return False
        if any(k in message and not isinstance(message[k], str) for k in ("text", "caption")):
            return False
    return True


def _secret_matches(given: str, secret: str) -> bool:
    try:
        given_bytes = given.encode("utf-8")
    except UnicodeEncodeError:  # aiohttp decodes header bytes that are not UTF-8 as surrogates
        return False
    return bool(secret) and hmac.compare_digest(given_bytes, secret.encode())


class InFlight:
    """Counts webhook requests being handled, so the drain can wait for them."""

    def __init__(self) -> None:
        self.n = 0
        self._zero = asyncio.Event()
        self._zero.set()

    def __enter__(self) -> None:
        self.n += 1
        self._zero.clear()

    def __exit__(self, *exc) -> None:
        self.n -= 1
        if self.n == 0:
            self._zero.set()

    async def wait(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._zero.wait(), timeout)
        except asyncio.TimeoutError:
            pass


def webhook_route(services: Services, application: Application, tinbox: TelegramInbox, draining: asyncio.Event, in_flight: InFlight) -> web.RouteDef:
    settings = services.settings
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    path = "/" + settings.webhook_path.strip("/")

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not _secret_matches(given, secret):
            log.warning("rejected an update with a missing or wrong secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        with in_flight:
            if draining.is_set():
                metrics.REFUSED.labels("draining").inc()
                return web.Response(status=503, text="shutting down")
            try:
                raw = await request.text()
                data = json.loads(raw)
                if not _is_update(data) or Update.de_json(data, application.bot) is None:
                    return web.Response(status=400, text="not an update")
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError, OverflowError):
                return web.Response(status=400, text="not an update")
            try:
                await tinbox.deliver(data["update_id"], raw)
            except Draining:
                metrics.REFUSED.labels("draining").inc()
                return web.Response(status=503, text="shutting down")
            except StoreError:
                metrics.REFUSED.labels("store").inc()
                return web.Response(status=503, text="state store unavailable")
            return web.Response(status=200)

    return web.post(path, receive)
