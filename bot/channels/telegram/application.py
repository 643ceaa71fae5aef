"""The Telegram channel's ``Application`` (python-telegram-bot v22) and its life: built
with our handlers, a rate limiter that respects Telegram's flood limits and retries
``RetryAfter`` (429), transient network errors and 5xx answers, and a log filter that
keeps the token out of every log line.

:class:`TelegramChannel` is what the server (:mod:`bot.server`) runs beside its aiohttp
application, as python-telegram-bot's ``customwebhookbot.py`` example does: ``start()``
initializes the application, registers the command menu from the command table, starts
it and then polls or (in webhook mode) registers the webhook; ``stop()`` stops polling
(acknowledging what was fetched), answers the updates in hand and shuts down. The
server's lifecycle does the rest (the store, following builds); PTB's ``post_init`` is
not used.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from telegram import BotCommand, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from ... import commands
from ...inbox import sending
from ...services import Services
from .handlers import TelegramBot
from .inbox import WEBHOOK_KEY, TelegramInbox, claim_webhook
from .webhook import InFlight, webhook_route

log = logging.getLogger("policybot.telegram")
# Calls that are safe to repeat after a timeout (a repeated sendMessage could duplicate).
_IDEMPOTENT = {"editMessageText", "answerCallbackQuery", "answerInlineQuery", "setMyCommands", "getMe", "deleteWebhook", "setWebhook"}


class WebhookRefused(Exception):
    """Telegram refused ``setWebhook`` (the URL, its certificate or port): one line, in
    Norwegian, for the CLI."""


class RetryingRateLimiter(AIORateLimiter):
    """Telegram's flood limits and RetryAfter retries (AIORateLimiter), plus retries of
    transient failures: connection errors and 5xx answers (the server did not act on the
    request) always, timeouts only for calls that are safe to repeat. A 4xx answer is
    permanent and never retried (python-telegram-bot's BadRequest is a NetworkError, so
    a refused send used to be tried up to eight times). Every call passes here, so a
    token Telegram stops accepting while the bot runs is noticed here too."""

    def __init__(self, network_retries: int = 3, backoff: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._network_retries = network_retries
        self._backoff = backoff
        self.on_invalid_token: Any = None  # called once per rejected call

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):  # type: ignore[override]
        for attempt in range(self._network_retries + 1):
            try:
                with sending():  # a drain lets this call finish (bot.inbox)
                    return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except RetryAfter:
                raise
            except InvalidToken:
                if self.on_invalid_token is not None:
                    self.on_invalid_token()
                raise
            except BadRequest:
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
        self.on_invalid_token: Any = None  # the channel's hook: a 401 seen while running

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "<TOKEN>") if self._token else text

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, InvalidToken):
            # python-telegram-bot's polling loop stops on a 401 and only logs it: tell the
            # channel (which says so in one line and stops), drop the traceback
            if self.on_invalid_token is not None:
                self.on_invalid_token()
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


def install_redaction(token: str) -> RedactToken:
    f = RedactToken(token)
    root = logging.getLogger()
    for h in root.handlers:
        h.addFilter(f)
    root.addFilter(f)
    for name in ("httpx", "telegram", "telegram.ext", "telegram.ext.Application", "telegram.ext.Updater"):
        logging.getLogger(name).addFilter(f)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return f


def build_application(services: Services, *, updater: bool = True) -> Application:
    """The configured ``Application`` (not started). Tests drive it against a stand-in."""
    settings = services.settings
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    redaction = install_redaction(token)
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
    )
    if not updater:
        builder = builder.updater(None)
    app = builder.build()
    bot = TelegramBot(services)
    app.bot_data["policybot"] = bot
    app.bot_data["redaction"] = redaction
    only_new = filters.UpdateType.MESSAGE  # edits are not new questions
    handlers = bot.command_handlers()
    # in a group, a command counts only when it names this bot (/hjelp@policybot): a bare
    # /hjelp is most likely for another bot there (CommandHandler checks the name itself)
    addressed = filters.ChatType.PRIVATE | filters.Regex(r"^/[A-Za-z0-9_]+@")
    for command in commands.for_channel(commands.TELEGRAM):
        app.add_handler(CommandHandler(list(command.names()), handlers[command.name], filters=only_new & addressed))
    app.add_handler(MessageHandler(only_new & filters.COMMAND, bot.unknown_command))
    app.add_handler(MessageHandler(only_new & filters.TEXT & ~filters.COMMAND, bot.question))
    app.add_handler(MessageHandler(only_new & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL, bot.not_text))
    app.add_handler(CallbackQueryHandler(bot.on_button))
    app.add_handler(InlineQueryHandler(bot.inline))
    app.add_error_handler(bot.error)
    return app


class TelegramChannel:
    """Telegram, run beside the server's aiohttp application: long polling, or webhook
    mode (updates arrive on the server's route from :func:`webhook_route`). Both put every
    update through the durable inbox (:mod:`.inbox`)."""

    def __init__(self, services: Services, *, webhook: bool = False, register_webhook: bool = True) -> None:
        self.services = services
        self.webhook = webhook
        self.register_webhook = register_webhook
        self.application = build_application(services, updater=not webhook)
        self.failure = ""  # why the channel cannot go on (the server stops and exits non-zero)
        self.failed = asyncio.Event()
        self._started = False
        self._loop: asyncio.AbstractEventLoop | None = None
        limiter = self.application.bot.rate_limiter
        if isinstance(limiter, RetryingRateLimiter):
            limiter.on_invalid_token = self._token_rejected  # sends (getUpdates bypasses it)
        self.application.bot_data["redaction"].on_invalid_token = self._token_rejected  # polling
        self.inbox = TelegramInbox(services, self.application, self.application.bot_data["policybot"].store_failed)
        self.in_flight = InFlight()

    def _token_rejected(self) -> None:
        """Telegram answered 401 while the bot was running: the token was revoked or
        replaced at @BotFather. Said once in the log and on /health, then the server stops
        (no update can be fetched or answered with this token)."""
        if not self._started or self._loop is None:
            return  # at start the CLI says it in one line
        self._loop.call_soon_threadsafe(self._fail, "token_rejected")

    def _fail(self, reason: str) -> None:
        if self.failed.is_set():
            return
        self.failure = reason
        log.error("Telegram rejected the bot token (revoked or replaced at @BotFather): stopping; set a new POLICYBOT_TELEGRAM_TOKEN")
        self.failed.set()

    def problem(self) -> str:
        """Why /health should not say ok, or ""."""
        return self.failure

    async def start(self, **polling: Any) -> None:
        app = self.application
        settings = self.services.settings
        await app.initialize()
        await app.bot.set_my_commands([BotCommand(c, d) for c, d in commands.menu()])
        self._loop = asyncio.get_running_loop()
        self._started = True
        if self.webhook:
            await app.start()  # nothing arrives on its queue: the route hands updates to the inbox
            if not self.services.shared:
                log.warning(
                    "webhook mode with the state in SQLite (%s): run exactly ONE replica. Several replicas need "
                    "POLICYBOT_DATABASE_URL (PostgreSQL); on separate SQLite files each answers every update Telegram gives it",
                    settings.state_db,
                )
            self.inbox.start()
            if self.register_webhook:
                url = settings.webhook_url.rstrip("/") + "/" + settings.webhook_path.strip("/")
                secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
                if await claim_webhook(self.services, url, secret, self.inbox.owner):
                    try:
                        await app.bot.set_webhook(url=url, secret_token=secret or None, allowed_updates=Update.ALL_TYPES)
                    except BadRequest as e:
                        await self.services.store.delete_meta(WEBHOOK_KEY)  # not registered after all
                        raise WebhookRefused(f"Telegram avviste webhook-adressen {url} ({e.message}); sjekk POLICYBOT_WEBHOOK_URL") from None
                    log.info("registered the webhook")
        else:
            # The Updater fills the application's queue; the inbox takes from it (so the
            # application itself is not started: it would consume the queue on its own).
            self.inbox.start(polling=True)
            log.info("starting long polling")
            await app.updater.start_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False, **polling)

    def routes(self, draining: asyncio.Event) -> list[web.RouteDef]:
        if not self.webhook:
            return []
        return [webhook_route(self.services, self.application, self.inbox, draining, self.in_flight)]

    def pending(self) -> int:
        return self.inbox.pending()

    async def stop(self) -> None:
        """Stop fetching (polling acknowledges what it fetched), let webhook requests already
        inside finish committing, finish or give back the updates in hand within
        POLICYBOT_DRAIN_SECONDS, shut down."""
        app = self.application
        log.info("stopping: refusing new updates, finishing the %d in hand", self.pending())
        try:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
        except TelegramError as e:  # e.g. the token was revoked: nothing can be acknowledged
            log.warning("could not stop polling cleanly: %s", type(e).__name__)
        await self.in_flight.wait(2.0)
        await self.inbox.drain(self.services.settings.drain_seconds)
        if app.running:
            await app.stop()
        try:
            await app.shutdown()
        except (TelegramError, RuntimeError) as e:
            log.warning("could not shut down cleanly: %s", type(e).__name__)
