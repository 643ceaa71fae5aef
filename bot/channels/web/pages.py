"""The web page's server-rendered pages: they work without JavaScript (forms and links),
and a question in the address (``GET /?q=…``) is answered in the page. A mixin of
:class:`.channel.WebChannel`, which supplies the guard's helpers and the rendering."""
from __future__ import annotations

from aiohttp import web

from ... import buttons as b
from ... import wording as w
from ...views import Message
from .present import to_data
from .security import WebError

SITE_NAME = "Policybot"


class PageHandlers:
    async def home(self, request: web.Request) -> web.Response:
        raw = request.query.get("q")
        if raw is None:
            return self._page(request, [], home=True)
        q = self._text(raw, "empty_question", w.EMPTY_QUESTION)
        await self._limit(request)
        view = await self.engine.ask(q, self._user(request), "web")
        return self._page(request, [to_data(view)], q=q, title=q)

    async def check_page(self, request: web.Request) -> web.Response:
        claim = self._text(request.query.get("p", ""), "empty_claim", w.CHECK_USAGE_WEB)
        await self._limit(request)
        view = await self.engine.check(claim, self._user(request), "web")
        return self._page(request, [to_data(view)], title=claim)

    async def compare_page(self, request: web.Request) -> web.Response:
        topic = self._text(request.query.get("t", ""), "empty_topic", w.COMPARE_USAGE_WEB)
        await self._limit(request)
        view = await self.engine.compare(topic, self._user(request), "web")
        return self._page(request, [to_data(view)], title=topic)

    async def topics_page(self, request: web.Request) -> web.Response:
        return self._page(request, [to_data(self.engine.topics())], title=w.WEB_TOPICS_TITLE)

    async def documents_page(self, request: web.Request) -> web.Response:
        return self._page(request, [to_data(self.engine.documents_view())], title=w.DOCUMENTS_HEADING)

    async def filter_page(self, request: web.Request) -> web.Response:
        prefs = await self.engine.prefs(self._user(request))
        return self._page(request, [to_data(self.engine.filter_menu(prefs))], title=w.WEB_FILTER_TITLE)

    async def commitments_page(self, request: web.Request) -> web.Response:
        await self._body(request)
        return self._page(request, [to_data(await self.engine.set_commitments(self._user(request)))])

    async def reset_page(self, request: web.Request) -> web.Response:
        await self._body(request)
        return self._page(request, [to_data(await self.engine.reset(self._user(request)))])

    async def press_page(self, request: web.Request) -> web.Response:
        fields = await self._body(request)
        await self._limit(request)
        button = b.unpack(str(fields.get("data", "")))
        if isinstance(button, b.CheckPrompt):
            return self._page(request, [to_data(Message(text=w.CHECK_USAGE_WEB))])
        view = self._expired(await self.engine.press(button, self._user(request)))
        data = to_data(view)
        if view.notice and not data.get("text") and not data.get("title"):
            data = to_data(Message(text=view.notice))
        return self._page(request, [data])

    async def permalink(self, request: web.Request) -> web.Response:
        view = await self.engine.shared(request.match_info["token"])
        if view is None:
            raise WebError(404, "not_found", w.WEB_PERMALINK_GONE)
        data = to_data(view)
        first = next(iter(data.get("passages", [])), None)
        og = {
            "og:type": "article",
            "og:site_name": SITE_NAME,
            "og:locale": "nb_NO",
            "og:title": _short(view.question, 120),
            "og:description": _short(first["text"], 200) + " — " + first["citation"]["text"] if first else w.NOT_COVERED,
            "og:url": self._absolute(request, request.path),
            "twitter:card": "summary",
        }
        return self._page(request, [data], title=view.question, og=og)

    async def embed_page(self, request: web.Request) -> web.Response:
        snippet = f'<iframe src="{self._absolute(request, "/")}" title="{w.WEB_EMBED_TITLE}" width="100%" height="640" style="border:0" loading="lazy"></iframe>'
        view = Message(title=w.WEB_EMBED_TITLE, text=w.WEB_EMBED_TEXT, lines=[snippet])
        return self._page(request, [to_data(view)], title=w.WEB_EMBED_TITLE)


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"
