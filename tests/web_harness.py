"""A running web server on the real index for the web tests: the real server module
(bot.server.serve) with the web channel, on 127.0.0.1 and a free port."""
from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp

from bot.channels.web import WebChannel
from bot.server import serve
from bot.services import build_services
from bot.settings import Settings

GOLD_QUESTION = "Vil Ap fjerne kontantstøtten?"
GOLD_PASSAGE = "fjerne kontantstøtten og bruke pengene på billigere barnehage"
GOLD_DOC = "Trygghet for alle – kampen mot organisert kriminalitet og utenforskap"
GOLD_PUBLISHER = "Oslo Arbeiderparti (partistyret)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebServer:
    def __init__(self, data_dir: Path, retriever, **settings) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.settings = Settings(data_dir=data_dir, index_dir=data_dir / "unused", **settings)
        self.retriever = retriever
        self.stop = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> "WebServer":
        services = build_services(self.settings, self.retriever)
        self.task = asyncio.create_task(serve(services, [WebChannel(services)], host="127.0.0.1", port=self.port, stop=self.stop))
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(self.base + "/health") as r:
                        if r.status == 200:
                            return self
                except aiohttp.ClientConnectionError:
                    pass
                if self.task.done():
                    self.task.result()
                await asyncio.sleep(0.05)
        raise AssertionError("the web server never became healthy")

    async def __aexit__(self, *exc) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 30)


def client() -> aiohttp.ClientSession:
    # unsafe: keep cookies from an IP address (127.0.0.1)
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
