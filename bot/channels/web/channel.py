"""The web channel: a chat page that works as plain HTML (forms and links, ``GET
/?q=…``) and, with JavaScript, as a chat on a JSON API; answers shareable as permalinks.

Pages (HTML, server-rendered):

    GET  /                  the page; with ?q=<spørsmål> the answer, rendered
    GET  /sjekk?p=…         /sjekk      GET /sammenlign?t=…   /sammenlign
    GET  /tema /dokumenter /filter      the other commands, as pages
    POST /lofter /nullstill             preferences (CSRF)
    POST /knapp             a button (form field ``data``; CSRF)
    GET  /svar/<token>      the permalink: the question, its passages and citations, with
                            Open Graph tags
    GET  /static/…          the page's own CSS, JavaScript and icon

JSON API (docs/web.md): ``/api/ask``, ``/api/more``, ``/api/context``, ``/api/vote``,
``/api/check``, ``/api/compare``, ``/api/topics``, ``/api/documents``, ``/api/filter``,
``/api/press``, ``/api/commitments``, ``/api/reset``, ``/api/session``. Every response is
JSON, errors too: ``{"error": {"code", "message"}}``.
"""
from __future__ import annotations

import asyncio
import json
import logging
import unicodedata
from pathlib import Path

import jinja2
from aiohttp import web

from ... import commands
from ... import wording as w
from ...services import Services
from ...views import Message, View
from . import security as sec
from .api import ApiHandlers
from .pages import SITE_NAME, PageHandlers
from .present import to_data
from .security import WebError

log = logging.getLogger("policybot.web")
HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
MAX_QUESTION = 20_000  # characters accepted at all (the engine searches the first 1,000 and says so)

# The web page's control for each command of the table that the web offers.
CONTROLS: dict[str, dict] = {
    "dokumenter": {"method": "get", "action": "/dokumenter", "api": "documents"},
    "filter": {"method": "get", "action": "/filter", "api": "filter"},
    "lofter": {"method": "post", "action": "/lofter", "api": "commitments"},
    "nullstill": {"method": "post", "action": "/nullstill", "api": "reset"},
    "sjekk": {"method": "get", "action": "/sjekk", "api": "check", "field": "p", "label": w.WEB_CHECK_LABEL, "submit": "Sjekk"},
    "sammenlign": {"method": "get", "action": "/sammenlign", "api": "compare", "field": "t", "label": w.WEB_COMPARE_LABEL, "submit": "Sammenlign"},
    "tema": {"method": "get", "action": "/tema", "api": "topics"},
}


def clean(text: str) -> str:
    """User text without control or format characters (they become spaces)."""
    return " ".join("".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") else ch for ch in text).split())


class WebChannel(PageHandlers, ApiHandlers):
    """The web page and its API on the server's aiohttp application: the server's channel
    protocol, the routes, the guard every web request passes, and rendering. The handlers
    are in :mod:`.pages` and :mod:`.api`."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.engine = services.engine
        s = services.settings
        self.public_url = s.web_public_url.rstrip("/")
        self.embed_origins = list(s.web_embed_origins)
        self.identity = sec.Identity(self.engine.user, embed=bool(self.embed_origins))
        self.headers = sec.headers(self.embed_origins)
        self.cookie_age = s.retention_days * 86400
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined
        )
        self.templates.globals.update(w=w, site=SITE_NAME)

    # --- the server's Channel protocol ---------------------------------------------------------

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def pending(self) -> int:
        return 0

    def middlewares(self) -> list:
        return [self.guard]

    def routes(self, draining: asyncio.Event) -> list[web.AbstractRouteDef]:
        page, api = "web-page", "web-api"
        return [
            web.get("/", self.home, name=f"{page}-home"),
            web.get("/sjekk", self.check_page, name=f"{page}-check"),
            web.get("/sammenlign", self.compare_page, name=f"{page}-compare"),
            web.get("/tema", self.topics_page, name=f"{page}-topics"),
            web.get("/dokumenter", self.documents_page, name=f"{page}-documents"),
            web.get("/filter", self.filter_page, name=f"{page}-filter"),
            web.post("/lofter", self.commitments_page, name=f"{page}-commitments"),
            web.post("/nullstill", self.reset_page, name=f"{page}-reset"),
            web.post("/knapp", self.press_page, name=f"{page}-press"),
            web.get("/svar/{token}", self.permalink, name=f"{page}-permalink"),
            web.get("/innebygg", self.embed_page, name=f"{page}-embed"),
            web.static("/static", STATIC, name=f"{page}-static", append_version=False),
            web.get("/api/session", self.api_session, name=f"{api}-session"),
            web.post("/api/ask", self.api_ask, name=f"{api}-ask"),
            web.post("/api/more", self.api_more, name=f"{api}-more"),
            web.post("/api/context", self.api_context, name=f"{api}-context"),
            web.post("/api/vote", self.api_vote, name=f"{api}-vote"),
            web.post("/api/check", self.api_check, name=f"{api}-check"),
            web.post("/api/compare", self.api_compare, name=f"{api}-compare"),
            web.get("/api/topics", self.api_topics, name=f"{api}-topics"),
            web.get("/api/documents", self.api_documents, name=f"{api}-documents"),
            web.get("/api/filter", self.api_filter, name=f"{api}-filter"),
            web.post("/api/press", self.api_press, name=f"{api}-press"),
            web.post("/api/commitments", self.api_commitments, name=f"{api}-commitments"),
            web.post("/api/reset", self.api_reset, name=f"{api}-reset"),
        ]

    # --- the guard: identity, CSRF, limits, headers, errors --------------------------------------

    @staticmethod
    def _kind(request: web.Request) -> str | None:
        """'api', 'page', or None for a route that is not the web channel's (health, webhook)."""
        route = request.match_info.route
        name = route.name or ""
        if name.startswith("web-api") or request.path.startswith("/api/"):
            return "api"
        if name.startswith("web-page") or request.match_info.http_exception is not None:
            return "page"
        return None

    @web.middleware
    async def guard(self, request: web.Request, handler) -> web.StreamResponse:
        kind = self._kind(request)
        if kind is None:
            return await handler(request)
        cookie = self.identity.cookie_id(request)
        request[sec.COOKIE_ID] = cookie
        request[sec.CLIENT_ID] = cookie or self.identity.new_id()
        try:
            if request.method == "POST":
                self._check_post(request)
            response = await handler(request)
        except WebError as e:
            response = self._error(request, kind, e)
        except web.HTTPException as e:
            if e.status < 400:
                raise
            response = self._error(request, kind, _http_error(e))
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one clear line to the user, the traceback to the log
            log.exception("web request %s %s failed", request.method, request.path)
            response = self._error(request, kind, WebError(500, "internal", w.WEB_INTERNAL))
        for key, value in self.headers.items():
            response.headers.setdefault(key, value)
        if kind == "api":
            response.headers["Cache-Control"] = "no-store"
        if cookie is None and not response.prepared:
            self.identity.set_cookie(response, request[sec.CLIENT_ID], self.cookie_age, sec.is_https(request))
        return response

    def _check_post(self, request: web.Request) -> None:
        if request.content_length is not None and request.content_length > sec.MAX_BODY:
            raise WebError(413, "too_large", w.WEB_TOO_LARGE)
        if not sec.origin_allowed(request, self.embed_origins, self.public_url):
            raise WebError(403, "csrf", w.WEB_CSRF)

    def _error(self, request: web.Request, kind: str, e: WebError) -> web.Response:
        if kind == "api":
            return web.json_response({"error": {"code": e.code, "message": e.message}}, status=e.status)
        return self._page(request, [to_data(Message(text=e.message))], status=e.status, title=w.WEB_ERROR_TITLE)

    async def _body(self, request: web.Request) -> dict[str, str]:
        """A POST's fields (JSON object or form), after its CSRF token is checked."""
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise WebError(413, "too_large", w.WEB_TOO_LARGE) from None
        if len(raw) > sec.MAX_BODY:
            raise WebError(413, "too_large", w.WEB_TOO_LARGE)
        fields: dict
        if request.content_type == "application/json":
            try:
                fields = json.loads(raw.decode("utf-8")) if raw else {}
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise WebError(400, "bad_request", w.WEB_BAD_REQUEST) from None
            if not isinstance(fields, dict):
                raise WebError(400, "bad_request", w.WEB_BAD_REQUEST)
        else:
            post = await request.post()
            fields = {k: v for k, v in post.items() if isinstance(v, str)}
        token = request.headers.get(sec.HEADER) or str(fields.get("csrf", ""))
        cid = self.identity.token_id(token)
        cookie = request[sec.COOKIE_ID]
        if cid is None or (cookie is not None and cid != cookie):
            raise WebError(403, "csrf", w.WEB_CSRF)
        if cookie is None:
            request[sec.CLIENT_ID] = cid
        return fields

    def _user(self, request: web.Request) -> str:
        return self.engine.user(self.identity.user_key(request))

    async def _limit(self, request: web.Request) -> None:
        if not await self.engine.allow(self._user(request)):
            raise WebError(429, "rate_limited", w.RATE_LIMITED)

    @staticmethod
    def _text(value: object, code: str, message: str) -> str:
        if not isinstance(value, str):
            value = "" if value is None else str(value)
        if len(value) > MAX_QUESTION:
            raise WebError(413, "too_large", w.WEB_TOO_LARGE)
        text = clean(value)
        if not text:
            raise WebError(400, code, message)
        return text

    @staticmethod
    def _expired(view: View) -> View:
        if isinstance(view, Message) and view.expired:
            raise WebError(410, "expired", view.text)
        return view

    # --- rendering -----------------------------------------------------------------------------

    def _csrf(self, request: web.Request) -> str:
        return self.identity.token(request[sec.CLIENT_ID])

    def fragment(self, data: dict, csrf: str) -> str:
        return self.templates.get_template("fragment.html").render(v=data, csrf=csrf)

    def _controls(self) -> list[dict]:
        out = []
        for c in commands.for_channel(commands.WEB):
            out.append({"name": c.name, "summary": c.summary, "example": c.example.partition(" ")[2], **CONTROLS[c.name]})
        return out

    def _page(
        self, request: web.Request, views: list[dict], *, status: int = 200, q: str = "", title: str = "", og: dict | None = None, home: bool = False
    ) -> web.Response:
        html = self.templates.get_template("page.html").render(
            views=views,
            csrf=self._csrf(request),
            q=q,
            title=title,
            og=og or {},
            home=home,
            examples=w.EXAMPLES,
            controls=self._controls(),
        )
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def _json(self, request: web.Request, view: View, status: int = 200) -> web.Response:
        data = to_data(view)
        data["html"] = self.fragment(data, self._csrf(request))
        return web.json_response(data, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    def _absolute(self, request: web.Request, path: str) -> str:
        base = self.public_url or f"{'https' if sec.is_https(request) else 'http'}://{request.host}"
        return base + path


def _http_error(e: web.HTTPException) -> WebError:
    if e.status == 404:
        return WebError(404, "not_found", w.WEB_NOT_FOUND)
    if e.status == 405:
        return WebError(405, "method_not_allowed", w.WEB_BAD_REQUEST)
    if e.status == 413:
        return WebError(413, "too_large", w.WEB_TOO_LARGE)
    return WebError(e.status, "bad_request", w.WEB_BAD_REQUEST)
