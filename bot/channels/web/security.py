"""What keeps the web page safe on the open internet: who a client is, CSRF tokens,
security headers, body limits and errors that are never aiohttp's HTML pages.

- **Client id**: a random pseudonymous id in the cookie ``pb`` (HttpOnly; SameSite=Lax,
  or None+Secure over https when embedding is allowed). Everything is stored under the
  engine's salted hash of it, like a Telegram user id. A client that sends no cookie
  (curl, a blocked third-party cookie) is counted by the salted hash of its address.
- **CSRF**: a state-changing request (every POST) carries ``<id>.<mac>`` in the form
  field ``csrf`` or the header ``X-CSRF-Token``; the mac is the salted hash of the id.
  With a cookie, the token's id must be the cookie's; an ``Origin`` header must be this
  site or an allowed embedding origin.
- **Headers**: a strict Content-Security-Policy (no inline script or style, nothing from
  another host; ``frame-ancestors`` from the allowed embedding origins), nosniff,
  Referrer-Policy, Permissions-Policy, Cross-Origin-Opener-Policy.
"""
from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

COOKIE = "pb"
HEADER = "X-CSRF-Token"
MAX_BODY = 64 * 1024  # a form or JSON body; a 10,000-character question fits with room
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# what the guard learns about a request: the id from its cookie (or None), and the id
# this response works under (the cookie's, a new one, or a cookie-less CSRF token's)
COOKIE_ID = web.RequestKey("client_id_cookie", object) if hasattr(web, "RequestKey") else "client_id_cookie"
CLIENT_ID = web.RequestKey("client_id", str) if hasattr(web, "RequestKey") else "client_id"


class WebError(Exception):
    """An expected fault with a code and a Norwegian message, for the JSON API's
    ``{"error": {"code", "message"}}`` and the page's error box."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Identity:
    """Client ids and CSRF tokens, keyed by the engine's salted hash."""

    def __init__(self, hasher: Callable[[str], str], secure_cookie: bool = False, embed: bool = False) -> None:
        self._hash = hasher
        self.secure_cookie = secure_cookie
        self.embed = embed

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(16)

    @staticmethod
    def cookie_id(request: web.Request) -> str | None:
        value = request.cookies.get(COOKIE, "")
        return value if _ID.match(value) else None

    def token(self, cid: str) -> str:
        return f"{cid}.{self._hash('csrf:' + cid)[:32]}"

    def token_id(self, token: str) -> str | None:
        cid, _, mac = token.partition(".")
        if not _ID.match(cid) or not hmac.compare_digest(mac.encode(), self._hash("csrf:" + cid)[:32].encode()):
            return None
        return cid

    def user_key(self, request: web.Request) -> str:
        """What a client is stored and counted under (before the engine's hash)."""
        cid = request.get(COOKIE_ID)
        if cid:
            return "web:" + cid
        return "addr:" + (request.remote or "unknown")

    def set_cookie(self, response: web.StreamResponse, cid: str, max_age: int, https: bool) -> None:
        cross_site = self.embed and https
        response.set_cookie(
            COOKIE, cid, max_age=max_age, path="/", httponly=True, secure=https or self.secure_cookie, samesite="None" if cross_site else "Lax"
        )


def csp(frame_ancestors: list[str]) -> str:
    ancestors = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        f"form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}; manifest-src 'self'"
    )


def headers(frame_ancestors: list[str]) -> dict[str, str]:
    out = {
        "Content-Security-Policy": csp(frame_ancestors),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if not frame_ancestors:
        out["X-Frame-Options"] = "DENY"
    return out


def is_https(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def origin_allowed(request: web.Request, allowed: list[str], public_url: str) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    own = {f"{request.scheme}://{request.host}", f"{'https' if is_https(request) else 'http'}://{request.host}"}
    if public_url:
        own.add(public_url.rstrip("/"))
    return origin in own or origin in allowed


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
