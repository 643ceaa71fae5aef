"""A stand-in for the Telegram Bot API on 127.0.0.1, for tests and the load benchmark.

It speaks the real HTTP protocol python-telegram-bot uses (``POST /bot<token>/<method>``,
form or JSON parameters, ``{"ok": ..., "result": ...}`` answers), queues updates for
``getUpdates`` long polling, records every call the bot makes, and can inject faults:
429 with ``retry_after``, 5xx answers and slow responses.

It refuses what Telegram refuses, with Telegram's 400 answers: a message text over 4,096
characters after entity parsing (HTML tags removed, entities decoded, counted in UTF-16
code units as Telegram does), an empty one, a caption over 1,024, a callback answer (toast)
over 200, ``callback_data`` over 64 bytes, and inline answers with more than 50 results,
a result id over 64 bytes, or duplicate ids. A refused call is recorded with status 400.
"""
from __future__ import annotations

import asyncio
import html
import itertools
import json
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_TEXT_LIMIT = 200
CALLBACK_DATA_BYTES = 64
INLINE_RESULTS_LIMIT = 50
INLINE_ID_BYTES = 64
_TAG = re.compile(r"<[^>]*>")

BOT_USER = {
    "id": 4242,
    "is_bot": True,
    "first_name": "Policybot",
    "username": "policy_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class Faults:
    """Fault injection. ``script`` answers the next calls of a method with these statuses
    first (429 comes with retry_after); the rates apply to sendMessage afterwards."""

    script: dict[str, list[int]] = field(default_factory=dict)
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    delay: float = 0.0  # seconds added to every sendMessage/editMessageText
    retry_after: int = 1
    seed: int = 7
    # descriptions of scripted 4xx answers, as Telegram words them
    descriptions: dict[int, str] = field(
        default_factory=lambda: {
            400: "Bad Request: chat not found",
            403: "Forbidden: bot was blocked by the user",
            404: "Not Found",
        }
    )


class FakeBotAPI:
    def __init__(self, token: str, faults: Faults | None = None) -> None:
        self.token = token
        self.faults = faults or Faults()
        self._rng = random.Random(self.faults.seed)
        self.calls: list[Call] = []
        self.updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._new_update = asyncio.Event()
        self._new_call = asyncio.Event()
        self.confirmed_offset = 0
        self.sent_per_chat: dict[int, int] = {}
        self.webhook_url = ""  # what setWebhook registered and deleteWebhook cleared
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # --- what the tests do ------------------------------------------------------------------------

    def push(self, update: dict) -> int:
        uid = next(self._update_ids)
        self.updates.append({"update_id": uid, **update})
        self._new_update.set()
        return uid

    def push_text(self, text: str, chat_id: int = 100, user_id: int = 555, chat_type: str = "private", reply_to: dict | None = None, entities: list | None = None) -> int:
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type, **({"title": "Gruppe"} if chat_type != "private" else {"first_name": "Kari"})},
            "from": {"id": user_id, "is_bot": False, "first_name": "Kari"},
            "text": text,
        }
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if entities:
            msg["entities"] = entities
        if reply_to:
            msg["reply_to_message"] = reply_to
        return self.push({"message": msg})

    def push_callback(self, data: str, message: dict, user_id: int = 555) -> int:
        return self.push(
            {
                "callback_query": {
                    "id": str(next(self._message_ids)),
                    "from": {"id": user_id, "is_bot": False, "first_name": "Kari"},
                    "chat_instance": "ci",
                    "data": data,
                    "message": message,
                }
            }
        )

    def push_inline(self, query: str, user_id: int = 555) -> int:
        return self.push(
            {"inline_query": {"id": str(next(self._message_ids)), "from": {"id": user_id, "is_bot": False, "first_name": "Kari"}, "query": query, "offset": ""}}
        )

    def calls_of(self, method: str, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 30.0, where=None, ok_only: bool = True) -> list[Call]:
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls_of(method, ok_only) if where is None or where(c)]
            if len(found) >= count:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {count} × {method}; calls: {[c.method for c in self.calls]}")
            self._new_call.clear()
            try:
                await asyncio.wait_for(self._new_call.wait(), min(left, 0.5))
            except asyncio.TimeoutError:
                pass

    # --- the protocol -----------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        out: dict[str, Any] = {}
        for k, v in form.items():
            if isinstance(v, str):
                try:
                    out[k] = json.loads(v) if v[:1] in "[{" else v
                except ValueError:
                    out[k] = v
        return out

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request) if request.can_read_body else {}
        call = Call(method, params, time.monotonic())
        status = self._fault_for(method)
        refused = self.refusal(method, params) if status == 200 else None
        if refused:
            call.status = 400
            self.calls.append(call)
            self._new_call.set()
            return web.json_response({"ok": False, "error_code": 400, "description": f"Bad Request: {refused}"}, status=400)
        if method in ("sendMessage", "editMessageText") and self.faults.delay:
            await asyncio.sleep(self.faults.delay)
        call.status = status
        self.calls.append(call)
        self._new_call.set()
        if status == 429:
            return web.json_response(
                {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {self.faults.retry_after}", "parameters": {"retry_after": self.faults.retry_after}},
                status=429,
            )
        if status >= 500:
            return web.json_response({"ok": False, "error_code": status, "description": "Internal Server Error"}, status=status)
        if status >= 400:
            description = self.faults.descriptions.get(status, "Bad Request")
            return web.json_response({"ok": False, "error_code": status, "description": description}, status=status)
        handler = getattr(self, f"_m_{method}", None)
        result = await handler(params) if handler else True
        return web.json_response({"ok": True, "result": result})

    # --- Telegram's limits ---------------------------------------------------------------------

    @staticmethod
    def visible_length(text: str, parse_mode: str | None) -> int:
        """Length as Telegram counts it: after entity parsing, in UTF-16 code units."""
        if (parse_mode or "").upper() == "HTML":
            text = html.unescape(_TAG.sub("", text))
        return len(text.encode("utf-16-le")) // 2

    def refusal(self, method: str, p: dict) -> str | None:
        """Telegram's error description for a call it would refuse, or None."""
        if method in ("sendMessage", "editMessageText"):
            n = self.visible_length(str(p.get("text", "")), p.get("parse_mode"))
            if n == 0 or not str(p.get("text", "")).strip():
                return "message text is empty"
            if n > MESSAGE_LIMIT:
                return "message is too long"
        if "caption" in p and self.visible_length(str(p["caption"]), p.get("parse_mode")) > CAPTION_LIMIT:
            return "message caption is too long"
        if method == "answerCallbackQuery" and len(str(p.get("text") or "")) > CALLBACK_TEXT_LIMIT:
            return "MESSAGE_TOO_LONG"
        markup = p.get("reply_markup")
        if isinstance(markup, dict) and self._bad_buttons(markup):
            return "BUTTON_DATA_INVALID"
        if method == "answerInlineQuery":
            results = p.get("results") or []
            if len(results) > INLINE_RESULTS_LIMIT:
                return "RESULTS_TOO_MUCH"
            ids = [str(r.get("id", "")) for r in results]
            if any(not i or len(i.encode()) > INLINE_ID_BYTES for i in ids) or len(set(ids)) != len(ids):
                return "RESULT_ID_INVALID" if len(set(ids)) == len(ids) else "RESULT_ID_DUPLICATE"
            for r in results:
                content = r.get("input_message_content") or {}
                if "message_text" in content and self.visible_length(str(content["message_text"]), content.get("parse_mode")) > MESSAGE_LIMIT:
                    return "MESSAGE_TOO_LONG"
                if isinstance(r.get("reply_markup"), dict) and self._bad_buttons(r["reply_markup"]):
                    return "BUTTON_DATA_INVALID"
        return None

    @staticmethod
    def _bad_buttons(markup: dict) -> bool:
        for row in markup.get("inline_keyboard") or []:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not (1 <= len(str(data).encode()) <= CALLBACK_DATA_BYTES):
                    return True
        return False

    def _fault_for(self, method: str) -> int:
        script = self.faults.script.get(method)
        if script:
            return script.pop(0)
        if method == "sendMessage":
            r = self._rng.random()
            if r < self.faults.rate_429:
                return 429
            if r < self.faults.rate_429 + self.faults.rate_5xx:
                return 500
        return 200

    async def _m_getMe(self, p: dict) -> dict:
        return BOT_USER

    async def _m_getUpdates(self, p: dict) -> list[dict]:
        offset = int(p.get("offset") or 0)
        timeout = float(p.get("timeout") or 0)
        if offset:
            self.confirmed_offset = max(self.confirmed_offset, offset)
        deadline = time.monotonic() + min(timeout, 2.0)
        while True:
            # like Telegram: updates confirmed by an earlier offset are gone for good
            floor = max(offset, self.confirmed_offset)
            ready = [u for u in self.updates if u["update_id"] >= floor]
            if ready or time.monotonic() >= deadline:
                return ready[: int(p.get("limit") or 100)]
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), max(0.01, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                pass

    def _message(self, p: dict) -> dict:
        chat_id = int(p["chat_id"])
        return {
            "message_id": int(p.get("message_id") or next(self._message_ids)),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": BOT_USER,
            "text": p.get("text", ""),
            **({"reply_markup": p["reply_markup"]} if isinstance(p.get("reply_markup"), dict) else {}),
        }

    async def _m_sendMessage(self, p: dict) -> dict:
        chat = int(p["chat_id"])
        self.sent_per_chat[chat] = self.sent_per_chat.get(chat, 0) + 1
        return self._message(p)

    async def _m_editMessageText(self, p: dict) -> dict:
        return self._message(p)

    async def _m_setWebhook(self, p: dict) -> bool:
        self.webhook_url = str(p.get("url", ""))
        return True

    async def _m_deleteWebhook(self, p: dict) -> bool:
        self.webhook_url = ""
        return True
