"""Telegram's webhook route on the server's aiohttp application.

    POST /<POLICYBOT_WEBHOOK_PATH>   updates from Telegram; the header
                                     X-Telegram-Bot-Api-Secret-Token must match
                                     POLICYBOT_WEBHOOK_SECRET, else 403

While the server drains (shutdown), new updates get 503, so Telegram delivers them again
later (to this or another replica). An update id is claimed in the state store before it
is queued (a unique key), so an update delivered twice, to this replica or another, is
answered once. A body that is not a Telegram update gets 400 and queues nothing.
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

log = logging.getLogger("policybot.webhook")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _is_update(data: object) -> bool:
    return isinstance(data, dict) and type(data.get("update_id")) is int


def webhook_route(services: Services, application: Application, draining: asyncio.Event) -> web.RouteDef:
    settings = services.settings
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    path = "/" + settings.webhook_path.strip("/")

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("rejected an update with a missing or wrong secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        if draining.is_set():
            return web.Response(status=503, text="shutting down")
        try:
            data = json.loads(await request.text())
            if not _is_update(data):
                return web.Response(status=400, text="not an update")
            update = Update.de_json(data, application.bot)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return web.Response(status=400, text="not an update")
        if update is None:
            return web.Response(status=400, text="not an update")
        if await services.store.claim_update(update.update_id):
            await application.update_queue.put(update)
        return web.Response(status=200)

    return web.post(path, receive)
