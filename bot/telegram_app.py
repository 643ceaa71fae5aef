"""The Telegram front end on python-telegram-bot (v22, asyncio ``Application``).

Handlers translate updates into calls on :class:`bot.engine.Engine` and its views into
Bot API calls (:mod:`bot.render_html`). Each kind of button has its own typed data and
its own handler (:mod:`bot.buttons`). State (answers, preferences, rate limits) is in the
store, so any replica can serve any update. Outgoing calls go through a rate limiter that
respects Telegram's flood limits and retries ``RetryAfter`` (429), transient network
errors and 5xx answers.

Edited messages are ignored (an edit is not a new question), and so is a bare
``/command`` in a group that names no bot (it is most likely another bot's).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from . import buttons as b
from .render_html import citation as citation_html
from .render_html import quote as quote_html
from .render_html import render
from .services import Services
from .views import AnswerPage, View

log = logging.getLogger("policybot.telegram")

COMMANDS = [
    ("start", "Kom i gang, med eksempler"),
    ("hjelp", "Slik bruker du boten"),
    ("dokumenter", "Dokumentene jeg svarer fra"),
    ("filter", "Velg hvilket dokument jeg søker i"),
    ("lofter", "Bare løfter («… vil:») av/på"),
    ("nullstill", "Søk i alle dokumenter igjen"),
    ("sjekk", "Sjekk en påstand mot løftene: /sjekk Ap vil …"),
    ("sammenlign", "Hva hvert dokument sier: /sammenlign politikontakt"),
    ("tema", "Bla i dokumentenes kapitler"),
]
ERROR_TEXT = "Beklager, noe gikk galt hos meg. Prøv igjen om litt."
FOLLOW_SECONDS = 3.0  # how often a replica checks the store for a build another one published
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Calls that are safe to repeat after a timeout (a repeated sendMessage could duplicate).
_IDEMPOTENT = {"editMessageText", "answerCallbackQuery", "answerInlineQuery", "setMyCommands", "getMe", "deleteWebhook", "setWebhook"}


class RetryingRateLimiter(AIORateLimiter):
    """Telegram's flood limits and RetryAfter retries (AIORateLimiter), plus retries of
    transient failures: connection errors and 5xx answers (the server did not act on the
    request) always, timeouts only for calls that are safe to repeat."""

    def __init__(self, network_retries: int = 3, backoff: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._network_retries = network_retries
        self._backoff = backoff

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):  # type: ignore[override]
        for attempt in range(self._network_retries + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except RetryAfter:
                raise
            except TimedOut:
                if endpoint not in _IDEMPOTENT or attempt == self._network_retries:
                    raise
            except NetworkError:
                if attempt == self._network_retries:
                    raise
            log.warning("%s failed (attempt %d), retrying", endpoint, attempt + 1)
            await asyncio.sleep(self._backoff * (2**attempt))
        raise AssertionError("unreachable")


class RedactToken(logging.Filter):
    """Removes the bot token from every log record, tracebacks included (httpx logs request
    URLs; python-telegram-bot puts the token in InvalidToken's message). A rejected token
    or an unreachable API at start is reported by the CLI in one line, so their
    tracebacks are dropped here."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "<TOKEN>") if self._token else text

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, InvalidToken):
            return False
        if isinstance(exc, NetworkError):
            record.msg, record.args = f"{record.getMessage()}: {type(exc).__name__}: {exc}", ()
            record.exc_info, record.exc_text = None, None
        msg = record.getMessage()
        if self._token and self._token in msg:
            record.msg, record.args = self._redact(msg), ()
        if record.exc_info:
            record.exc_text = self._redact(logging.Formatter().formatException(record.exc_info))
        return True


def install_redaction(token: str) -> None:
    f = RedactToken(token)
    root = logging.getLogger()
    for h in root.handlers:
        h.addFilter(f)
    root.addFilter(f)
    for name in ("httpx", "telegram", "telegram.ext", "telegram.ext.Application", "telegram.ext.Updater"):
        logging.getLogger(name).addFilter(f)
    logging.getLogger("httpx").setLevel(logging.WARNING)


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


class TelegramBot:
    """Handlers bound to one set of services."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.engine = services.engine
        self.admins = set(services.settings.admin_ids)

    def _user(self, update: Update) -> str:
        user = update.effective_user
        return self.engine.user(user.id) if user else ""

    @staticmethod
    async def _send(message: Message, view: View, quote: bool = False) -> None:
        await message.reply_html(render(view), reply_markup=keyboard(view), link_preview_options=NO_PREVIEW, do_quote=quote)

    # --- commands ----------------------------------------------------------------------------

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, self.engine.welcome())

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, self.engine.help(context.bot.username or "boten"))

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
        source = "group" if update.effective_chat and update.effective_chat.type != ChatType.PRIVATE else "private"
        view = await self.engine.check(" ".join(context.args or []), self._user(update), source)
        await self._send(update.effective_message, view)

    async def compare(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        view = await self.engine.compare(" ".join(context.args or []), self._user(update))
        await self._send(update.effective_message, view)

    async def topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, self.engine.topics())

    async def reload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if not user or user.id not in self.admins:
            await update.effective_message.reply_text("Bare administratorer kan laste inn indeksen på nytt.")
            return
        try:
            before, after = await self.services.reload()
        except Exception as e:  # noqa: BLE001 - report any failure, keep serving the old index
            log.exception("reload failed")
            await update.effective_message.reply_text(f"Kunne ikke laste ny indeks, beholder den gamle: {type(e).__name__}: {e}")
            return
        await update.effective_message.reply_text(
            f"Indeksen er lastet inn på nytt: {len(self.engine.retriever.chunks)} avsnitt (bygg {after}, var {before}). "
            "Alle instanser bytter innen noen sekunder."
        )

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
        mention = f"@{bot_username}".lower() if bot_username else None
        if mention and mention in text.lower():
            i = text.lower().index(mention)
            return True, (text[:i] + text[i + len(mention) :]).strip()
        replied = message.reply_to_message
        if replied and replied.from_user and replied.from_user.id == bot_id:
            return True, text
        return False, ""

    async def question(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        addressed, text = self._addressed(message, context.bot.username, context.bot.id)
        if not addressed:
            return
        user = self._user(update)
        if user and not await self.engine.allow(user):
            await self._send(message, self.engine.rate_limited())
            return
        source = "group" if message.chat.type != ChatType.PRIVATE else "private"
        view = await self.engine.ask(text, user, source)
        await self._send(message, view, quote=source == "group")

    async def not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, self.engine.not_text())

    # --- buttons, one handler per kind ---------------------------------------------------------

    async def _press(self, update: Update) -> View:
        query = update.callback_query
        view = await self.engine.press(query.data or "", self._user(update))
        if getattr(view, "expired", False):
            await query.answer(view.notice, show_alert=False)
        else:
            await query.answer(view.notice or None)
        return view

    async def _edit(self, update: Update, view: View) -> None:
        query = update.callback_query
        if getattr(view, "expired", False) or query.message is None:
            return
        try:
            await query.edit_message_text(render(view), parse_mode=ParseMode.HTML, reply_markup=keyboard(view), link_preview_options=NO_PREVIEW)
        except BadRequest as e:
            if "not modified" not in str(e).lower():
                raise

    async def on_more(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._edit(update, await self._press(update))

    async def on_filter(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._edit(update, await self._press(update))

    async def on_context(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        view = await self._press(update)
        query = update.callback_query
        if not getattr(view, "expired", False) and query.message is not None:
            await context.bot.send_message(query.message.chat.id, render(view), parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)

    async def on_vote(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._press(update)

    async def on_topic(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/tema's buttons browse in place: the message is edited."""
        await self._edit(update, await self._press(update))

    async def on_check_prompt(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        view = await self._press(update)
        query = update.callback_query
        if query.message is not None:
            await context.bot.send_message(query.message.chat.id, render(view), parse_mode=ParseMode.HTML)

    async def on_stale(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Button data we did not make, or from an older version."""
        await update.callback_query.answer(self.engine.expired().notice)

    # --- inline mode ---------------------------------------------------------------------------

    async def inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        text = query.query.strip()
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
        log.error("update %s failed: %r", uid, context.error, exc_info=context.error)
        if isinstance(update, Update):
            try:
                if update.callback_query:
                    await update.callback_query.answer(ERROR_TEXT)
                elif update.effective_message:
                    await update.effective_message.reply_text(ERROR_TEXT, do_quote=False)
            except Exception:  # noqa: BLE001 - never fail in the error handler
                log.warning("could not tell the user about the error")


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
        except Exception as e:  # noqa: BLE001 - keep serving the current index
            log.warning("could not follow the published build: %s", e)


def build_application(services: Services, *, updater: bool = True) -> Application:
    """The configured ``Application`` (not started). Tests drive it against a stand-in."""
    settings = services.settings
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    install_redaction(token)
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_api_url.replace("/bot", "/file/bot"))
        .concurrent_updates(settings.concurrent_updates)
        .rate_limiter(RetryingRateLimiter(max_retries=3) if settings.telegram_rate_limiter else RetryingRateLimiter(max_retries=3, overall_max_rate=0, group_max_rate=0))
        .connect_timeout(10)
        .read_timeout(15)
        .write_timeout(15)
        .pool_timeout(10)
        .connection_pool_size(64)
        .get_updates_read_timeout(40)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if not updater:
        builder = builder.updater(None)
    app = builder.build()
    bot = TelegramBot(services)
    app.bot_data["policybot"] = bot
    app.bot_data["services"] = services
    only_new = filters.UpdateType.MESSAGE  # edits are not new questions
    app.add_handler(CommandHandler("start", bot.start, filters=only_new))
    app.add_handler(CommandHandler(["hjelp", "help"], bot.help, filters=only_new))
    app.add_handler(CommandHandler("dokumenter", bot.documents, filters=only_new))
    app.add_handler(CommandHandler("filter", bot.filter_menu, filters=only_new))
    app.add_handler(CommandHandler("lofter", bot.commitments, filters=only_new))
    app.add_handler(CommandHandler("nullstill", bot.reset, filters=only_new))
    app.add_handler(CommandHandler("oppdater", bot.reload, filters=only_new))
    app.add_handler(CommandHandler("sjekk", bot.check, filters=only_new))
    app.add_handler(CommandHandler("sammenlign", bot.compare, filters=only_new))
    app.add_handler(CommandHandler("tema", bot.topics, filters=only_new))
    app.add_handler(MessageHandler(only_new & filters.COMMAND, bot.unknown_command))
    app.add_handler(MessageHandler(only_new & filters.TEXT & ~filters.COMMAND, bot.question))
    app.add_handler(MessageHandler(only_new & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL, bot.not_text))
    app.add_handler(CallbackQueryHandler(bot.on_more, pattern=b.More.pattern()))
    app.add_handler(CallbackQueryHandler(bot.on_context, pattern=b.Context.pattern()))
    app.add_handler(CallbackQueryHandler(bot.on_vote, pattern=b.Vote.pattern()))
    for cls in (b.FilterDoc, b.FilterAll, b.FilterCommitments):
        app.add_handler(CallbackQueryHandler(bot.on_filter, pattern=cls.pattern()))
    app.add_handler(CallbackQueryHandler(bot.on_topic, pattern=b.Topic.pattern()))
    app.add_handler(CallbackQueryHandler(bot.on_check_prompt, pattern=b.CheckPrompt.pattern()))
    app.add_handler(CallbackQueryHandler(bot.on_stale))
    app.add_handler(InlineQueryHandler(bot.inline))
    app.add_error_handler(bot.error)
    return app


async def _post_init(application: Application) -> None:
    services: Services = application.bot_data["services"]
    await services.open()
    await application.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
    stop = asyncio.Event()
    application.bot_data["stop_follow"] = stop
    application.bot_data["follow_task"] = asyncio.create_task(follow_builds(services, stop))


async def _post_shutdown(application: Application) -> None:
    stop = application.bot_data.get("stop_follow")
    if stop is not None:
        stop.set()
        task = application.bot_data.get("follow_task")
        if task is not None:
            await task
    await application.bot_data["services"].close()


def run_polling(services: Services) -> None:
    app = build_application(services)
    settings = services.settings
    if settings.health_port:
        from .webhook import start_health_server

        runners = []
        init, shutdown = app.post_init, app.post_shutdown

        async def with_health(application: Application) -> None:
            await init(application)
            runners.append(await start_health_server(settings, services))

        async def stop_health(application: Application) -> None:
            for r in runners:
                await r.cleanup()
            await shutdown(application)

        app.post_init = with_health
        app.post_shutdown = stop_health
    log.info("starting long polling")
    # SIGINT/SIGTERM stop polling, finish the updates in hand and acknowledge them.
    app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
