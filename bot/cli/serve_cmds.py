"""`policybot start`, `chat`, `run` and `health`: the conversation front ends."""
from __future__ import annotations

import logging

import typer

from .common import ensure_index, fail, guard, services_of, settings_of
from .root import app

log = logging.getLogger("policybot")



@app.command("chat")
def chat_cmd(ctx: typer.Context) -> None:
    """Lokal chat i terminalen (ett spørsmål per linje; fungerer også med pipe)."""
    from retrieval.translate import apertium_available, status

    from ..channels.terminal import run_terminal_chat

    s = settings_of(ctx)
    ensure_index(s)
    if not apertium_available():
        typer.echo(f"Merk: {status()}", err=True)
    services = services_of(s)
    guard(run_terminal_chat, services)


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    webhook: bool = typer.Option(False, "--webhook", help="Ta imot oppdateringer via webhook i stedet for long polling."),
) -> None:
    """Start Telegram-boten."""
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from retrieval.translate import apertium_available, status

    s = settings_of(ctx)
    problem = s.token_problem()
    if problem:
        fail(problem, 2)
    if webhook and not s.webhook_url:
        fail("webhook-modus trenger POLICYBOT_WEBHOOK_URL (den offentlige adressen)", 2)
    if webhook and not s.webhook_secret:
        fail("webhook-modus trenger POLICYBOT_WEBHOOK_SECRET (Telegram sender den med hver oppdatering)", 2)
    ensure_index(s)
    if not apertium_available():
        log.warning(status())
    services = services_of(s)
    from ..channels.telegram import TelegramChannel
    from ..server import run

    # webhook mode listens for updates (and /health) on POLICYBOT_WEBHOOK_PORT; polling
    # mode listens only when POLICYBOT_HEALTH_PORT is set
    port = s.webhook_port if webhook else s.health_port
    try:
        guard(lambda: run(services, [TelegramChannel(services, webhook=webhook)], host=s.webhook_listen, port=port))
    except InvalidToken:
        fail("Telegram avviste tokenet i POLICYBOT_TELEGRAM_TOKEN (ugyldig eller trukket tilbake): hent et nytt hos @BotFather", 2)
    except NetworkError as e:
        fail(f"får ikke kontakt med Telegram på {_host(s.telegram_api_url)} ({type(e).__name__}); sjekk nettverket og POLICYBOT_TELEGRAM_API_URL")
    except TelegramError as e:
        fail(f"Telegram svarte med en feil ved oppstart: {type(e).__name__}")


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


@app.command("start")
def start_cmd(ctx: typer.Context) -> None:
    """Telegram-boten hvis POLICYBOT_TELEGRAM_TOKEN er satt, ellers lokal chat."""
    s = settings_of(ctx)
    if s.telegram_token is None:
        typer.echo("Ingen POLICYBOT_TELEGRAM_TOKEN: starter lokal chat i terminalen.", err=True)
        chat_cmd(ctx)
    else:
        run_cmd(ctx, webhook=bool(s.webhook_url))


@app.command("health")
def health_cmd(ctx: typer.Context) -> None:
    """Sjekk at en kjørende bot svarer på /health (for Docker HEALTHCHECK)."""
    import urllib.request

    s = settings_of(ctx)
    port = s.webhook_port if s.webhook_url else s.health_port
    if not port:
        fail("ingen helseport: sett POLICYBOT_HEALTH_PORT (polling) eller POLICYBOT_WEBHOOK_URL (webhook-modus)", 2)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=3) as r:
            typer.echo(r.read().decode())
    except OSError as e:
        fail(f"ingen svar fra /health på port {port}: {e}")
