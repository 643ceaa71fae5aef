"""The Telegram front end on python-telegram-bot (v22, asyncio ``Application``).

Handlers translate updates into calls on :class:`bot.engine.Engine` and its replies into
Bot API calls. Searches run in worker threads (``asyncio.to_thread``) so a slow question
never holds up the event loop; updates are processed concurrently; outgoing calls go
through a rate limiter that respects Telegram's flood limits and retries ``RetryAfter``
(429) and transient network errors and 5xx answers.
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
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
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

from retrieval.search import Retriever

from .engine import Engine, Prefs, Reply
from .feedback import FeedbackStore
from .settings import Settings

log = logging.getLogger("policybot.telegram")

COMMANDS = [
    ("start", "Kom i gang, med eksempler"),
    ("hjelp", "Slik bruker du boten"),
    ("dokumenter", "Dokumentene jeg svarer fra"),
    ("filter", "Velg hvilket dokument jeg søker i"),
    ("lofter", "Bare løfter («… vil:») av/på"),
    ("nullstill", "Søk i alle dokumenter igjen"),
]
ERROR_TEXT = "Beklager, noe gikk galt hos meg. Prøv igjen om litt."
RATE_TEXT = "Du sender spørsmål veldig raskt. Vent et øyeblikk og prøv igjen."
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


class UserRateLimit:
    """At most ``per_minute`` questions per user in any 60 seconds."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[int, deque[float]] = defaultdict(deque)

    def allow(self, user_id: int) -> bool:
        now = time.monotonic()
        q = self._seen[user_id]
        while q and now - q[0] > 60:
            q.popleft()
        if len(q) >= self.per_minute:
            return False
        q.append(now)
        return True


class RedactToken(logging.Filter):
    """Removes the bot token from every log record (httpx logs request URLs)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self._token:
            msg = record.getMessage()
            if self._token in msg:
                record.msg = msg.replace(self._token, "<TOKEN>")
                record.args = ()
        return True


def install_redaction(token: str) -> None:
    f = RedactToken(token)
    root = logging.getLogger()
    for h in root.handlers:
        h.addFilter(f)
    root.addFilter(f)
    for name in ("httpx", "telegram", "telegram.ext"):
        logging.getLogger(name).addFilter(f)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    rows = []
    for row in reply.buttons:
        out = []
        for b in row:
            if b.switch_inline is not None:
                out.append(InlineKeyboardButton(b.label, switch_inline_query=b.switch_inline))
            else:
                out.append(InlineKeyboardButton(b.label, callback_data=b.data))
        rows.append(out)
    return InlineKeyboardMarkup(rows)


class TelegramBot:
    """Handlers bound to one engine."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.rate = UserRateLimit(settings.rate_limit_per_minute)
        self.admins = set(settings.admin_ids)

    # --- helpers ---------------------------------------------------------------------------

    def _user_hash(self, update: Update) -> str:
        user = update.effective_user
        return self.engine.feedback.user_hash(user.id) if user and self.engine.feedback else ""

    @staticmethod
    def _prefs(context: ContextTypes.DEFAULT_TYPE) -> Prefs:
        prefs = context.user_data.get("prefs") if context.user_data is not None else None
        return prefs if isinstance(prefs, Prefs) else Prefs()

    @staticmethod
    def _store(context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
        if reply.prefs is not None and context.user_data is not None:
            context.user_data["prefs"] = reply.prefs

    @staticmethod
    async def _send(message: Message, reply: Reply, quote: bool = False) -> None:
        await message.reply_html(reply.html, reply_markup=keyboard(reply), link_preview_options=NO_PREVIEW, do_quote=quote)

    # --- commands ----------------------------------------------------------------------------

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, self.engine.welcome())

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, self.engine.help(context.bot.username or "boten"))

    async def documents(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, self.engine.documents_reply())

    async def filter_menu(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, self.engine.filter_menu(self._prefs(context)))

    async def commitments(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        reply = self.engine.set_commitments(self._prefs(context))
        self._store(context, reply)
        await self._send(update.effective_message, reply)

    async def reset(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        reply = self.engine.reset_filters()
        self._store(context, reply)
        await self._send(update.effective_message, reply)

    async def reload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if not user or user.id not in self.admins:
            await update.effective_message.reply_text("Bare administratorer kan laste inn indeksen på nytt.")
            return
        old = self.engine.retriever
        try:
            new = await asyncio.to_thread(Retriever.open, self.settings.resolved_index_dir, old.embedder)
        except Exception as e:  # noqa: BLE001 - report any failure, keep serving the old index
            log.exception("reload failed")
            await update.effective_message.reply_text(f"Kunne ikke laste ny indeks, beholder den gamle: {e}")
            return
        self.engine.swap_retriever(new)
        before, after = old.index.path.name, new.index.path.name
        await update.effective_message.reply_text(
            f"Indeksen er lastet inn på nytt: {len(new.chunks)} avsnitt (bygg {after}, var {before})."
        )

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        command = (message.text or "").split()[0]
        name, _, target = command.partition("@")
        if target and context.bot.username and target.lower() != context.bot.username.lower():
            return  # a command for another bot in a group
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
        user = update.effective_user
        if user and not self.rate.allow(user.id):
            await message.reply_text(RATE_TEXT, do_quote=False)
            return
        source = "group" if message.chat.type != ChatType.PRIVATE else "private"
        reply = await asyncio.to_thread(self.engine.ask, text, self._prefs(context), self._user_hash(update), source)
        await self._send(message, reply, quote=source == "group")

    async def not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._send(update.effective_message, self.engine.not_text())

    # --- buttons and inline mode ----------------------------------------------------------------

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        data = query.data or ""
        reply = await asyncio.to_thread(self.engine.callback, data, self._prefs(context), self._user_hash(update))
        self._store(context, reply)
        kind = data.split(":", 1)[0]
        if not reply.found and reply.notice:
            await query.answer(reply.notice, show_alert=False)
            return
        await query.answer(reply.notice or None)
        if query.message is None:
            return
        if kind in ("p", "f"):
            try:
                await query.edit_message_text(reply.html, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply), link_preview_options=NO_PREVIEW)
            except BadRequest as e:
                if "not modified" not in str(e).lower():
                    raise
        elif kind == "x":
            await context.bot.send_message(query.message.chat.id, reply.html, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)

    async def inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        items = await asyncio.to_thread(self.engine.inline, query.query)
        results = [
            InlineQueryResultArticle(
                id=item.id,
                title=item.title,
                description=item.description,
                input_message_content=InputTextMessageContent(item.html, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW),
            )
            for item in items
        ]
        await query.answer(results, cache_time=60, is_personal=False)

    # --- errors ---------------------------------------------------------------------------------

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


async def _post_init(application: Application) -> None:
    await application.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])


def build_application(settings: Settings, engine: Engine, *, updater: bool = True) -> Application:
    """The configured ``Application`` (not started). Tests drive it against a stand-in."""
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    install_redaction(token)
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_api_url.replace("/bot", "/file/bot"))
        .concurrent_updates(settings.concurrent_updates)
        .rate_limiter(RetryingRateLimiter(max_retries=3))
        .connect_timeout(10)
        .read_timeout(15)
        .write_timeout(15)
        .pool_timeout(10)
        .connection_pool_size(64)
        .get_updates_read_timeout(40)
        .post_init(_post_init)
    )
    if not updater:
        builder = builder.updater(None)
    app = builder.build()
    bot = TelegramBot(settings, engine)
    app.bot_data["policybot"] = bot
    app.add_handler(CommandHandler("start", bot.start))
    app.add_handler(CommandHandler(["hjelp", "help"], bot.help))
    app.add_handler(CommandHandler("dokumenter", bot.documents))
    app.add_handler(CommandHandler("filter", bot.filter_menu))
    app.add_handler(CommandHandler("lofter", bot.commitments))
    app.add_handler(CommandHandler("nullstill", bot.reset))
    app.add_handler(CommandHandler("oppdater", bot.reload))
    app.add_handler(MessageHandler(filters.COMMAND, bot.unknown_command))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, bot.question))
    app.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL, bot.not_text)
    )
    app.add_handler(CallbackQueryHandler(bot.button))
    app.add_handler(InlineQueryHandler(bot.inline))
    app.add_error_handler(bot.error)
    return app


def make_engine(settings: Settings, retriever: Retriever) -> Engine:
    feedback = FeedbackStore(settings.feedback_db, settings.feedback_salt.get_secret_value())
    return Engine(retriever, feedback, per_page=settings.results_per_page, max_question_chars=settings.max_question_chars)


def run_bot(settings: Settings, retriever: Retriever, webhook: bool = False) -> None:
    engine = make_engine(settings, retriever)
    if webhook:
        from .webhook import run_webhook

        run_webhook(settings, engine)
        return
    app = build_application(settings, engine)
    if settings.health_port:
        from .webhook import start_health_server

        runners = []
        init = app.post_init

        async def with_health(application: Application) -> None:
            if init:
                await init(application)
            runners.append(await start_health_server(settings, engine))

        async def stop_health(application: Application) -> None:
            for r in runners:
                await r.cleanup()

        app.post_init = with_health
        app.post_shutdown = stop_health
    log.info("starting long polling")
    # SIGINT/SIGTERM stop polling, finish the updates in hand and acknowledge them.
    app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
