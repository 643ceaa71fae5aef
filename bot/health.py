"""Health and metrics endpoints, as Kubernetes and Docker expect them:

    GET /health/live    200 while the process serves requests at all (restart it if not)
    GET /health/ready   200 when this replica should get traffic: not draining, the state
                        store answers within a second, and it serves the published build;
                        503 with the reason otherwise
    GET /health         the same as /health/ready (older health checks)
    GET /metrics        Prometheus text format (bot.metrics)
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from . import metrics
from .builds import BUILD_KEY
from .services import Services
from .state import StoreError

READY_TIMEOUT = 1.0  # a store slower than this counts as unreachable


async def readiness(
    services: Services, draining: asyncio.Event, in_hand: Callable[[], int] = lambda: 0, problems: Callable[[], list[str]] = lambda: []
) -> tuple[int, dict]:
    served = services.retriever.build
    body = {"build": served, "chunks": len(services.retriever.chunks), "pending_updates": in_hand()}
    failed = problems()
    if failed:  # a channel that cannot go on (a revoked token): the server is stopping
        metrics.READY.set(0)
        return 503, {"status": "failed", "problems": failed, **body}
    if draining.is_set():
        return 503, {"status": "stopping", **body}
    try:
        published = await asyncio.wait_for(services.store.get_meta(BUILD_KEY), READY_TIMEOUT)
    except (StoreError, asyncio.TimeoutError):
        metrics.STORE_ERRORS.inc()
        metrics.READY.set(0)
        return 503, {"status": "store unreachable", **body}
    if published is not None and published != served:
        metrics.READY.set(0)
        return 503, {"status": "switching to the published build", "published": published, **body}
    metrics.READY.set(1)
    return 200, {"status": "ok", **body}


def health_routes(
    services: Services, draining: asyncio.Event, in_hand: Callable[[], int] = lambda: 0, problems: Callable[[], list[str]] = lambda: []
) -> list[web.RouteDef]:
    async def live(request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def ready(request: web.Request) -> web.Response:
        status, body = await readiness(services, draining, in_hand, problems)
        return web.json_response(body, status=status)

    async def metrics_page(request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": metrics.CONTENT_TYPE})

    return [web.get("/health/live", live), web.get("/health/ready", ready), web.get("/health", ready, name="health"), web.get("/metrics", metrics_page)]
