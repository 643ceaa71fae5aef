"""Webhook mode and the health endpoint (aiohttp, as python-telegram-bot's custom-webhook
examples do, so we can add routes and control shutdown).

    POST /<POLICYBOT_WEBHOOK_PATH>   updates from Telegram; the header
                                     X-Telegram-Bot-Api-Secret-Token must match
                                     POLICYBOT_WEBHOOK_SECRET, else 403
    GET  /health                     200 {"status": "ok", ...} while serving

Shutdown (SIGTERM/SIGINT): new updates get 503, so Telegram delivers them again later (to
this or another replica); the updates already acknowledged are processed and answered,
then the process exits. An update id is claimed in the state store before it is queued
(a unique key), so an update delivered twice, to this replica or another, is answered
once. A body that is not a Telegram update gets 400 and queues nothing.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from .services import Services
from .settings import Settings
from .telegram_app import build_application

log = logging.getLogger("policybot.webhook")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def health_payload(services: Services, application: Application | None) -> dict:
    r = services.retriever
    return {
        "status": "ok",
        "chunks": len(r.chunks),
        "build": r.index.path.name,
        "pending_updates": application.update_queue.qsize() if application else 0,
    }


def _is_update(data: object) -> bool:
    return isinstance(data, dict) and type(data.get("update_id")) is int


def make_web_app(settings: Settings, services: Services, application: Application | None, draining: asyncio.Event) -> web.Application:
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    path = "/" + settings.webhook_path.strip("/")

    async def health(request: web.Request) -> web.Response:
        if draining.is_set():
            return web.json_response({"status": "stopping"}, status=503)
        return web.json_response(health_payload(services, application))

    async def receive(request: web.Request) -> web.Response:
        if application is None:
            return web.Response(status=404)
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

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/health", health)
    if application is not None:
        app.router.add_post(path, receive)
    return app


async def serve_webhook(services: Services, stop: asyncio.Event | None = None, register: bool = True) -> None:
    """Serve until ``stop`` is set (or SIGTERM/SIGINT), then drain and exit."""
    settings = services.settings
    stop = stop or asyncio.Event()
    draining = asyncio.Event()
    application = build_application(services, updater=False)
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    await application.start()
    if register:
        url = settings.webhook_url.rstrip("/") + "/" + settings.webhook_path.strip("/")
        await application.bot.set_webhook(
            url=url,
            secret_token=settings.webhook_secret.get_secret_value() if settings.webhook_secret else None,
            allowed_updates=Update.ALL_TYPES,
        )
    runner = web.AppRunner(make_web_app(settings, services, application, draining), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_listen, settings.webhook_port)
    await site.start()
    log.info("webhook listening on %s:%s/%s", settings.webhook_listen, settings.webhook_port, settings.webhook_path.strip("/"))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
            pass
    try:
        await stop.wait()
    finally:
        log.info("stopping: refusing new updates, answering the %d in hand", application.update_queue.qsize())
        draining.set()
        await application.stop()  # processes the queue and waits for running handlers
        await runner.cleanup()
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
        log.info("stopped")


def run_webhook(services: Services) -> None:
    asyncio.run(serve_webhook(services))


async def start_health_server(settings: Settings, services: Services) -> web.AppRunner:
    """A /health endpoint for polling mode (POLICYBOT_HEALTH_PORT > 0)."""
    runner = web.AppRunner(make_web_app(settings, services, None, asyncio.Event()), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.webhook_listen, settings.health_port).start()
    return runner
