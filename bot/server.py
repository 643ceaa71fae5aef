"""The one server: it owns the aiohttp application and the process lifecycle.

    GET  /health/live    200 while the process answers at all
    GET  /health/ready   200 {"status": "ok", "chunks", "build", "pending_updates"} when
                         this replica should get traffic; 503 with the reason while
                         draining, while the state store is unreachable, or while it
                         serves another build than the published one
    GET  /health         the same as /health/ready
    GET  /metrics        Prometheus metrics (bot.metrics)
    (routes the channels add: Telegram's webhook, the web chat)

:func:`serve` opens the services (store, migrations, pruning), follows index builds that
another replica publishes, starts each channel (Telegram runs beside the aiohttp
application, as in python-telegram-bot's ``customwebhookbot.py`` example), listens when
it has a port, and waits for ``stop`` or SIGTERM/SIGINT. Then it drains: health and new
webhook updates get 503, each channel finishes what it has in hand (polling acknowledges
what it fetched), the listener closes, and the services close.

A channel here is anything with ``start()``, ``stop()``, ``routes(draining)`` and
``pending()``, and optionally ``middlewares()`` (the web page's security guard). One
that can fail while running (Telegram revoking the token) also has ``failed`` (an
``asyncio.Event``) and ``problem()``: /health then says 503 with the reason, and the
server drains and raises :class:`ChannelFailed`, so the process exits non-zero instead
of serving nothing with a healthy /health.

Start-up failures end the process: the listener is bound before any channel starts, so
a busy port or a bad address fails before Telegram is told about a webhook, and nothing
is left pointing at a replica that never came up.
"""
from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from typing import Protocol

from aiohttp import web

from .health import health_routes
from .services import Services
from .state import StoreError

log = logging.getLogger("policybot.server")
FOLLOW_SECONDS = 3.0  # how often a replica checks the store for a build another one published
MAX_BODY = 1024 * 1024
# A request line may carry a long question (GET /?q=…, percent-encoded): aiohttp's default
# of 8 KB would answer a 10,000-character question with its own HTML 400 page.
MAX_LINE = 256 * 1024


class Channel(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def routes(self, draining: asyncio.Event) -> list[web.RouteDef]: ...
    def pending(self) -> int: ...


class ChannelFailed(Exception):
    """A channel stopped working while the server ran; ``reason`` is its ``problem()``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _problems(channels: Sequence[Channel]) -> list[str]:
    return [p for c in channels if (p := getattr(c, "problem", lambda: "")())]


def make_app(services: Services, channels: Sequence[Channel], draining: asyncio.Event) -> web.Application:
    middlewares = [m for c in channels for m in (c.middlewares() if hasattr(c, "middlewares") else [])]
    app = web.Application(client_max_size=MAX_BODY, middlewares=middlewares, handler_args={"max_line_size": MAX_LINE, "max_field_size": MAX_LINE})
    app.router.add_routes(health_routes(services, draining, lambda: sum(c.pending() for c in channels), lambda: _problems(channels)))
    for channel in channels:
        app.router.add_routes(channel.routes(draining))
    return app


async def prune_regularly(services: Services, stop: asyncio.Event, every: float | None = None) -> None:
    """Retention and TTL while the bot runs, not only at start."""
    every = every or services.settings.prune_interval_minutes * 60.0
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), every)
            return
        except asyncio.TimeoutError:
            pass
        try:
            await services.prune()
        except StoreError as e:
            log.warning("pruning failed, trying again later: %s", e)


async def follow_builds(services: Services, stop: asyncio.Event) -> None:
    """Every few seconds: has another replica published a new build with /oppdater?"""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), FOLLOW_SECONDS)
        except asyncio.TimeoutError:
            pass
        if stop.is_set():
            return
        try:
            await services.follow()
        except StoreError as e:  # the inbox says it once; keep serving the current index
            log.debug("could not follow the published build: %s", e)
        except Exception as e:  # noqa: BLE001 - keep serving the current index
            log.warning("could not follow the published build: %s", e)


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
            pass


async def serve(
    services: Services,
    channels: Sequence[Channel],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    stop: asyncio.Event | None = None,
    on_listening: Callable[[str], None] | None = None,
    signals: bool = True,
) -> None:
    """Serve until ``stop`` is set (or SIGTERM/SIGINT), then drain and return. ``port`` 0:
    no listener (polling without a health endpoint)."""
    stop = stop or asyncio.Event()
    draining = asyncio.Event()
    stop_follow = asyncio.Event()
    started: list[Channel] = []
    runner: web.AppRunner | None = None
    await services.open()
    follower = asyncio.create_task(follow_builds(services, stop_follow))
    watchers: list[asyncio.Task] = []
    pruner = asyncio.create_task(prune_regularly(services, stop_follow))
    try:
        if signals:
            _on_signals(stop)
        if port:  # before any channel starts: a busy port must not leave a webhook registered
            runner = web.AppRunner(make_app(services, channels, draining), access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
            if on_listening is None:
                log.info("listening on %s:%s", host, port)
        for channel in channels:
            try:
                await channel.start()
            except BaseException:
                await channel.stop()  # a half-started channel must not keep the process alive
                raise
            started.append(channel)
        if port and on_listening is not None:  # it says where, in its own words
            on_listening(f"http://{host}:{port}")
        for channel in channels:
            failed = getattr(channel, "failed", None)
            if failed is not None:
                watchers.append(asyncio.create_task(_stop_when(failed, stop)))
        await stop.wait()
    finally:
        for w in watchers:
            w.cancel()
        draining.set()
        for channel in reversed(started):
            await channel.stop()
        if runner is not None:
            await runner.cleanup()
        stop_follow.set()
        await asyncio.gather(follower, pruner)
        await services.close()
        log.log(logging.INFO if signals else logging.DEBUG, "stopped")
    problems = _problems(channels)
    if problems:
        raise ChannelFailed(problems[0])


async def _stop_when(event: asyncio.Event, stop: asyncio.Event) -> None:
    await event.wait()
    stop.set()


def run(
    services: Services, channels: Sequence[Channel], *, host: str = "127.0.0.1", port: int = 0, on_listening: Callable[[str], None] | None = None
) -> None:
    asyncio.run(serve(services, channels, host=host, port=port, on_listening=on_listening))
