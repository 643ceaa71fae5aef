"""The one server: Telegram's webhook route, the web page and /health on one aiohttp
application and one port, with one lifecycle (the store opened once, drained on stop)."""
from __future__ import annotations

import asyncio
from urllib.parse import quote

import aiohttp

from bot.channels.telegram import SECRET_HEADER, TelegramChannel
from bot.channels.web import WebChannel
from bot.server import serve
from bot.services import build_services
from bot.settings import Settings

from .fake_bot_api import FakeBotAPI
from .test_operations import _update
from .test_telegram import TOKEN
from .web_harness import GOLD_PASSAGE, GOLD_QUESTION, free_port


async def test_webhook_web_page_and_health_share_one_server(tmp_path, retriever):
    api = FakeBotAPI(TOKEN)
    await api.start()
    port = free_port()
    settings = Settings(
        telegram_token=TOKEN,
        telegram_api_url=api.base_url,
        data_dir=tmp_path,
        webhook_url="https://bot.example.org",
        webhook_secret="s3cret-token",
        webhook_path="hook",
    )
    services = build_services(settings, retriever)
    stop = asyncio.Event()
    channels = [TelegramChannel(services, webhook=True), WebChannel(services)]
    server = asyncio.create_task(serve(services, channels, host="127.0.0.1", port=port, stop=stop))
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            for _ in range(200):
                try:
                    async with http.get(f"{base}/health") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            async with http.get(f"{base}/?q={quote(GOLD_QUESTION)}") as r:
                assert r.status == 200 and GOLD_PASSAGE in await r.text()
            async with http.post(f"{base}/hook", json=_update(1, "kontantstøtten"), headers={SECRET_HEADER: "s3cret-token"}) as r:
                assert r.status == 200 and "Content-Security-Policy" not in r.headers  # the web guard leaves Telegram alone
            (sent,) = await api.wait_for("sendMessage")
            assert "kontantstøtten" in sent.params["text"].lower()
            async with http.get(f"{base}/health") as r:
                assert (await r.json())["status"] == "ok" and "Content-Security-Policy" not in r.headers
        stop.set()
        await asyncio.wait_for(server, 60)
    finally:
        if not server.done():
            stop.set()
            await server
        await api.stop()
