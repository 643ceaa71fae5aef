"""The JSON API under the page (docs/web.md): every answer is a view as data
(:mod:`.present`) with its rendered ``html``; every error is
``{"error": {"code", "message"}}``. A mixin of :class:`.channel.WebChannel`."""
from __future__ import annotations

from aiohttp import web

from ... import buttons as b
from ... import wording as w
from .security import WebError


class ApiHandlers:
    async def api_session(self, request: web.Request) -> web.Response:
        return web.json_response({"csrf": self._csrf(request)})

    async def api_ask(self, request: web.Request) -> web.Response:
        fields = await self._body(request)
        q = self._text(fields.get("question"), "empty_question", w.EMPTY_QUESTION)
        await self._limit(request)
        return self._json(request, await self.engine.ask(q, self._user(request), "web"))

    async def api_more(self, request: web.Request) -> web.Response:
        fields = await self._body(request)
        page = fields.get("page")
        if not isinstance(page, int) or isinstance(page, bool):
            raise WebError(400, "bad_request", w.WEB_BAD_REQUEST)
        return self._json(request, self._expired(await self.engine.page(str(fields.get("token", "")), page)))

    async def api_context(self, request: web.Request) -> web.Response:
        fields = await self._body(request)
        return self._json(request, self._expired(await self.engine.context(str(fields.get("chunk", "")))))

    async def api_vote(self, request: web.Request) -> web.Response:
        fields = await self._body(request)
        up = fields.get("up")
        if not isinstance(up, bool):
            raise WebError(400, "bad_request", w.WEB_BAD_REQUEST)
        return self._json(request, self._expired(await self.engine.vote(str(fields.get("token", "")), up, self._user(request))))

    async def api_check(self, request: web.Request) -> web.Response:
        fields = await self._body(request)
        claim = self._text(fields.get("claim"), "empty_claim", w.CHECK_USAGE_WEB)
        await self._limit(request)
        return self._json(request, await self.engine.check(claim, self._user(request), "web"))

    async def api_compare(self, request: web.Request) -> web.Response:
        fields = await self._body(request)
        topic = self._text(fields.get("topic"), "empty_topic", w.COMPARE_USAGE_WEB)
        await self._limit(request)
        return self._json(request, await self.engine.compare(topic, self._user(request), "web"))

    async def api_topics(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            node, page = int(q.get("node", "-1")), int(q.get("page", "0"))
        except ValueError:
            raise WebError(400, "bad_request", w.WEB_BAD_REQUEST) from None
        return self._json(request, self._expired(self.engine.topics(q.get("doc", ""), node, page)))

    async def api_documents(self, request: web.Request) -> web.Response:
        return self._json(request, self.engine.documents_view())

    async def api_filter(self, request: web.Request) -> web.Response:
        return self._json(request, self.engine.filter_menu(await self.engine.prefs(self._user(request))))

    async def api_press(self, request: web.Request) -> web.Response:
        fields = await self._body(request)
        await self._limit(request)
        data = str(fields.get("data", ""))
        view = self._expired(await self.engine.press(b.unpack(data), self._user(request)))
        return self._json(request, view)

    async def api_commitments(self, request: web.Request) -> web.Response:
        await self._body(request)
        return self._json(request, await self.engine.set_commitments(self._user(request)))

    async def api_reset(self, request: web.Request) -> web.Response:
        await self._body(request)
        return self._json(request, await self.engine.reset(self._user(request)))
