"""Telegram's webhook route on the server's aiohttp application.

    POST /<POLICYBOT_WEBHOOK_PATH>   updates from Telegram; the header
                                     X-Telegram-Bot-Api-Secret-Token must match
                                     POLICYBOT_WEBHOOK_SECRET, else 403

While the server drains (shutdown), new updates get 503, so Telegram delivers them again
later (to this or another replica). An update id is claimed in the state store before it
is queued (a unique key), so an update delivered twice, to this replica or another, is
answered once. A body that is not a Telegram update gets 400 and queues nothing: that
includes fields of the wrong type or out of range (``date: 1e300``, an ``update_id`` past
2^63, a numeric ``text``), which used to give a 500 and a traceback. A secret header that
is not UTF-8 gets 403 like a wrong one. When the store cannot record the update id (a
full disk), the update is queued anyway: answered at least once beats not at all.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from ...services import Services
from ...state import StoreError

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


def webhook_route(services: Services, application: Application, draining: asyncio.Event) -> web.RouteDef:
    settings = services.settings
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    path = "/" + settings.webhook_path.strip("/")

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not _secret_matches(given, secret):
            log.warning("rejected an update with a missing or wrong secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        if draining.is_set():
            return web.Response(status=503, text="shutting down")
        try:
            data = json.loads(await request.text())
            if not _is_update(data):
                return web.Response(status=400, text="not an update")
            update = Update.de_json(data, application.bot)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError, OverflowError):
            return web.Response(status=400, text="not an update")
        if update is None:
            return web.Response(status=400, text="not an update")
        try:
            first = await services.store.claim_update(update.update_id)
        except StoreError as e:
            log.warning("could not record update %s (%s): answering it anyway", update.update_id, e)
            first = True
        if first:
            await application.update_queue.put(update)
        return web.Response(status=200)

    return web.post(path, receive)
