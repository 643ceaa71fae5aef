"""Telegram's handlers: updates in, calls on :class:`bot.engine.Engine`, its views out as
Bot API calls (:mod:`bot.render_html`).

Commands come from the one command table (:mod:`bot.commands`); buttons are parsed once
(:func:`bot.buttons.unpack`) and the engine routes them by their typed data, while
``DELIVERY`` says how each kind's answer reaches the chat (the message edited in place, a
new message, or only the toast).

Edited messages are ignored (an edit is not a new question), and so is a bare
``/command`` in a group that names no bot (it is most likely another bot's), and a
mention of another bot whose name merely starts with ours (``@policy_botx``).

Every update that causes a search (a question, /sjekk, /sammenlign, an inline query,
"Vis flere") counts against the user's rate limit; the first one over the limit in a
window is told so (a message, a toast or an inline button), the rest get nothing, since
a refusal costs the same share of the bot's ~30 messages/s as an answer.

A user who blocked the bot (403) is logged as one INFO line and sent nothing more; a
request Telegram refuses (400) is logged as one line, without a traceback.
"""
from __future__ import annotations

import logging
import re

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from ... import buttons as b
from ... import commands
from ...render_html import citation as citation_html
from ...render_html import quote as quote_html
from ...render_html import render
from ... import metrics
from ...builds import Change
from ...engine import ADMIT, TELL
from ...services import Services
from ...state import StoreError
from ...views import View

log = logging.getLogger("policybot.telegram")

ERROR_TEXT = "Beklager, noe gikk galt hos meg. Prøv igjen om litt."
ADMINS_ONLY = "Bare administratorer kan laste inn indeksen på nytt."
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# How a button's answer reaches the chat; the kinds not named only get the toast (votes).
DELIVERY: dict[type, str] = {
    b.More: "edit",
    b.FilterDoc: "edit",
    b.FilterAll: "edit",
    b.FilterCommitments: "edit",
    b.Topic: "edit",  # /tema browses in place
    b.Context: "send",
    b.CheckPrompt: "send",
}


def keyboard(view: View) -> InlineKeyboardMarkup | None:
    if not view.buttons:
        return None
    rows = []
    for row in view.buttons:
        out = []
        for button in row:
            if button.share is not None:
                out.append(InlineKeyboardButton(button.label, switch_inline_query=button.share))
            elif button.data is not None:
                out.append(InlineKeyboardButton(button.label, callback_data=button.data.pack()))
        if out:
            rows.append(out)
    return InlineKeyboardMarkup(rows) if rows else None


def store_failure(error: BaseException | None) -> bool:
    """The error (or what caused it) is the state store being unreachable."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, StoreError):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def reload_text(change: Change) -> str:
    """What /oppdater says: what changed, or that nothing did."""
    if change.nothing:
        return f"Ingenting nytt: alle instanser serverer allerede bygg {change.after} ({change.chunks} avsnitt). Kjør `policybot index build` etter at korpuset er endret."
    parts = [f"Ny indeks publisert: bygg {change.after} (var {change.before}), {change.chunks} avsnitt."]
    for label, titles in (("Nye dokumenter", change.added), ("Endret", change.changed), ("Fjernet", change.removed)):
        if titles:
            parts.append(f"{label}: {', '.join(titles)}.")
    if not (change.added or change.changed or change.removed):
        parts.append("Dokumentene er de samme (ordlisten, modellen eller formatet er endret).")
    parts.append("Alle instanser bytter innen noen sekunder.")
    return " ".join(parts)


class TelegramBot:
    """Handlers bound to one set of services."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.engine = services.engine
        self.admins = set(services.settings.admin_ids)
        self.store_failed: set[int] = set()  # updates whose handler failed on the store: retried, no «Beklager»

    def _user(self, update: Update) -> str:
        user = update.effective_user
        return self.engine.user(user.id) if user else ""

    @staticmethod
    async def _send(message: Message, view: View, quote: bool = False) -> None:
        await message.reply_html(render(view), reply_markup=keyboard(view), link_preview_options=NO_PREVIEW, do_quote=quote)

    async def _over_limit(self, update: Update) -> bool:
        """Count an update that causes a search; True when it must not be answered. The
        first update over the limit in a window is told so, the others get nothing."""
        user = self._user(update)
        if not user:
            return False
        verdict = await self.engine.admit(user)
        if verdict == ADMIT:
            return False
        if verdict == TELL:
            text = self.engine.rate_limited().text
            if update.callback_query:
                await update.callback_query.answer(text[:200])
            elif update.inline_query:
                button = InlineQueryResultsButton(text=text[:64], start_parameter="vent")
                await update.inline_query.answer([], cache_time=0, is_personal=True, button=button)
            elif update.effective_message:
                await self._send(update.effective_message, self.engine.rate_limited())
        return True

    # --- commands: one handler per name in bot.commands -----------------------------------

    def command_handlers(self) -> dict[str, object]:
        return {
            "start": self.start,
            "hjelp": self.help,
            "dokumenter": self.documents,
            "filter": self.filter_menu,
            "lofter": self.commitments,
            "nullstill": self.reset,
            "sjekk": self.check,
            "sammenlign": self.compare,
            "tema": self.topics,
            "oppdater": self.reload,
        }

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, self.engine.welcome())

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, self.engine.help(context.bot.username or "boten", commands.TELEGRAM))

    async def documents(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, self.engine.documents_view())

    async def filter_menu(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        prefs = await self.engine.prefs(self._user(update))
        await self._send(update.effective_message, self.engine.filter_menu(prefs))

    async def commitments(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, await self.engine.set_commitments(self._user(update)))

    async def reset(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, await self.engine.reset(self._user(update)))

    async def check(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self._over_limit(update):
            return
        source = "group" if update.effective_chat and update.effective_chat.type != ChatType.PRIVATE else "private"
        view = await self.engine.check(" ".join(context.args or []), self._user(update), source)
        await self._send(update.effective_message, view)

    async def compare(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self._over_limit(update):
            return
        view = await self.engine.compare(" ".join(context.args or []), self._user(update))
        await self._send(update.effective_message, view)

    async def topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, self.engine.topics())

    async def reload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if not user or user.id not in self.admins:
            await update.effective_message.reply_text(ADMINS_ONLY)
            return
        try:
            change = await self.services.reload()
        except StoreError:
            raise  # retried once the store answers
        except Exception as e:  # noqa: BLE001 - report any failure, keep serving the old index
            log.warning("reload failed: %s: %s", type(e).__name__, e)
            await update.effective_message.reply_text(f"Kunne ikke laste ny indeks, beholder den gamle: {type(e).__name__}: {e}")
            return
        await update.effective_message.reply_text(reload_text(change))

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        command = (message.text or "").split()[0]
        name, _, target = command.partition("@")
        if message.chat.type != ChatType.PRIVATE:
            # in a group, answer only commands addressed to this bot by name
            if not target or not context.bot.username or target.lower() != context.bot.username.lower():
                return
        await self._send(message, self.engine.unknown_command(name))

    # --- questions ---------------------------------------------------------------------------

    def _addressed(self, message: Message, bot_username: str, bot_id: int) -> tuple[bool, str]:
        """In private chats every message is a question; in groups only a mention of the
        bot or a reply to one of its messages. Returns the question without the mention."""
        text = message.text or ""
        if message.chat.type == ChatType.PRIVATE:
            return True, text
        # the whole name: "@policy_botx" is another bot, not a mention of @policy_bot
        found = re.search(rf"@{re.escape(bot_username)}(?![A-Za-z0-9_])", text, re.IGNORECASE) if bot_username else None
        if found:
            return True, (text[: found.start()] + text[found.end() :]).strip()
        replied = message.reply_to_message
        if replied and replied.from_user and replied.from_user.id == bot_id:
            return True, text
        return False, ""

    async def question(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        addressed, text = self._addressed(message, context.bot.username, context.bot.id)
        if not addressed:
            return
        if await self._over_limit(update):
            return
        source = "group" if message.chat.type != ChatType.PRIVATE else "private"
        with metrics.timed("search"):
            view = await self.engine.ask(text, self._user(update), source)
        metrics.count_answer(view)
        with metrics.timed("send"):
            await self._send(message, view, quote=source == "group")

    async def not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, self.engine.not_text())

    # --- buttons: parsed once, routed by their typed data ---------------------------------------

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        data = b.unpack(query.data)  # None: data we did not make, or from an older version
        if isinstance(data, b.More) and await self._over_limit(update):  # "Vis flere" searches again
            return
        view = await self.engine.press(data, self._user(update))
        expired = getattr(view, "expired", False)
        await query.answer(view.notice or None)
        if expired or query.message is None:
            return
        how = DELIVERY.get(type(data))
        if how == "edit":
            try:
                await query.edit_message_text(render(view), parse_mode=ParseMode.HTML, reply_markup=keyboard(view), link_preview_options=NO_PREVIEW)
            except BadRequest as e:
                if "not modified" not in str(e).lower():
                    raise
        elif how == "send":
            await context.bot.send_message(query.message.chat.id, render(view), parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)

    # --- inline mode ---------------------------------------------------------------------------

    async def inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        text = query.query.strip()
        if len(text) >= 3 and await self._over_limit(update):  # shorter ones are not searched
            return
        if text.lower().startswith("sjekk "):
            items = await self.engine.inline_check(text[6:])
        else:
            items = await self.engine.inline(text)
        results = [
            InlineQueryResultArticle(
                id=item.id,
                title=item.title,
                description=item.description,
                input_message_content=InputTextMessageContent(
                    f"{quote_html(item.passage.chunk, item.passage.highlight)}\n{citation_html(item.passage.citation)}",
                    parse_mode=ParseMode.HTML,
                    link_preview_options=NO_PREVIEW,
                ),
            )
            for item in items
        ]
        await query.answer(results, cache_time=60, is_personal=False)

    # --- errors -----------------------------------------------------------------------------------

    async def error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        uid = update.update_id if isinstance(update, Update) else None
        if uid is not None and store_failure(context.error):
            # not the user's problem: the inbox retries the update once the store answers
            self.store_failed.add(uid)
            log.debug("update %s: the state store failed (%s); it will be retried", uid, context.error)
            return
        if isinstance(context.error, Forbidden):
            # the user blocked the bot, or it may not post in that chat: nothing to tell them
            log.info("update %s: Telegram refused to deliver (%s); nothing more is sent", uid, context.error)
            return
        if isinstance(context.error, BadRequest):
            log.error("update %s: Telegram refused a request: %s", uid, context.error)
        else:
            log.error("update %s failed: %r", uid, context.error, exc_info=context.error)
        if isinstance(update, Update):
            try:
                if update.callback_query:
                    await update.callback_query.answer(ERROR_TEXT)
                elif update.effective_message:
                    await update.effective_message.reply_text(ERROR_TEXT, do_quote=False)
            except Exception:  # noqa: BLE001 - never fail in the error handler
                log.warning("could not tell the user about the error")
