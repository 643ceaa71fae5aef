"""`policybot start`, `chat`, `run` and `health`: the conversation front ends."""
from __future__ import annotations

import logging
from typing import Optional

import typer

from .common import adopt_published, ensure_index, fail, guard, services_of, settings_of
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
    adopt_published(s)  # with a shared store: what the other replicas serve
    ensure_index(s)
    if not apertium_available():
        log.warning(status())
    services = services_of(s)
    from ..channels.telegram import TelegramChannel
    from ..channels.telegram.application import WebhookRefused
    from ..server import ChannelFailed, run

    channels: list = [TelegramChannel(services, webhook=webhook)]
    # webhook mode listens for updates (and /health) on POLICYBOT_WEBHOOK_PORT; polling
    # mode listens only when POLICYBOT_HEALTH_PORT is set, or on POLICYBOT_WEB_PORT when
    # it serves the web page too
    host, port = (s.webhook_listen, s.webhook_port) if webhook else (s.webhook_listen, s.health_port)
    if s.web_with_telegram:
        from ..channels.web import WebChannel

        channels.append(WebChannel(services))
        if not webhook:
            host, port = s.web_host, s.web_port
    rejected = "Telegram avviste tokenet i POLICYBOT_TELEGRAM_TOKEN (ugyldig eller trukket tilbake): hent et nytt hos @BotFather"
    try:
        guard(lambda: run(services, channels, host=host, port=port, on_listening=_announce if s.web_with_telegram else None))
    except InvalidToken:
        fail(rejected, 2)
    except ChannelFailed as e:
        fail(rejected if e.reason == "token_rejected" else f"boten stoppet: {e.reason}", 2)
    except WebhookRefused as e:
        fail(str(e), 2)
    except NetworkError as e:
        fail(f"får ikke kontakt med Telegram på {_host(s.telegram_api_url)} ({type(e).__name__}); sjekk nettverket og POLICYBOT_TELEGRAM_API_URL")
    except TelegramError as e:
        fail(f"Telegram svarte med en feil ved oppstart: {type(e).__name__}")
    except OSError as e:  # the listener: a busy port, an address this host does not have
        fail(f"kan ikke lytte på {s.webhook_listen}:{port}: {e.strerror or e}")


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def _announce(url: str) -> None:
    typer.echo(f"Nettsiden: {url}", err=True)


def _free_port(host: str, port: int, tries: int = 10) -> int | None:
    """The first port from ``port`` that can be bound on ``host`` (``make run`` on a
    machine where 8080 is taken still serves the page, and says where)."""
    import socket

    for p in range(port, min(port + tries, 65536)):
        with socket.socket() as sock:
            try:
                sock.bind((host, p))
            except OSError:
                continue
            return p
    return None


@app.command("start")
def start_cmd(ctx: typer.Context) -> None:
    """Telegram-boten hvis POLICYBOT_TELEGRAM_TOKEN er satt, ellers lokal chat i terminalen og nettsiden."""
    s = settings_of(ctx)
    if s.telegram_token is not None:
        run_cmd(ctx, webhook=bool(s.webhook_url))
        return
    from retrieval.translate import apertium_available, status

    from ..channels.terminal import run_terminal_chat, run_terminal_chat_with_server

    typer.echo("Ingen POLICYBOT_TELEGRAM_TOKEN: starter lokal chat i terminalen og nettsiden.", err=True)
    ensure_index(s)
    if not apertium_available():
        typer.echo(f"Merk: {status()}", err=True)
    services = services_of(s)
    port = _free_port(s.web_host, s.web_port)
    if port is None:
        typer.echo(f"Merk: portene {s.web_port}–{s.web_port + 9} er opptatt; starter bare chatten i terminalen.", err=True)
        guard(run_terminal_chat, services)
        return
    from ..channels.web import WebChannel
    from ..server import serve

    def server(stop, ready):
        def listening(url: str) -> None:
            _announce(url)
            ready.set()

        return serve(services, [WebChannel(services)], host=s.web_host, port=port, stop=stop, on_listening=listening, signals=False)

    guard(run_terminal_chat_with_server, services, server)


@app.command("web")
def web_cmd(
    ctx: typer.Context,
    host: Optional[str] = typer.Option(None, "--host", help="Adressen nettsiden lytter på (POLICYBOT_WEB_HOST)."),
    port: Optional[int] = typer.Option(None, "--port", min=1, max=65535, help="Porten (POLICYBOT_WEB_PORT)."),
) -> None:
    """Nettsiden: chat i nettleseren, med JSON-API og lenker til svar."""
    from retrieval.translate import apertium_available, status

    from ..channels.web import WebChannel
    from ..server import run

    s = settings_of(ctx)
    host, port = host or s.web_host, port or s.web_port
    ensure_index(s)
    if not apertium_available():
        log.warning(status())
    services = services_of(s)
    try:
        guard(lambda: run(services, [WebChannel(services)], host=host, port=port, on_listening=_announce))
    except OSError as e:
        fail(f"kan ikke lytte på {host}:{port} ({e.strerror or e}); velg en annen port med --port")


@app.command("health")
def health_cmd(ctx: typer.Context) -> None:
    """Sjekk at en kjørende bot svarer på /health (for Docker HEALTHCHECK)."""
    import urllib.request

    s = settings_of(ctx)
    port = s.webhook_port if s.webhook_url else s.health_port
    if not port:
        fail("ingen helseport: sett POLICYBOT_HEALTH_PORT (polling) eller POLICYBOT_WEBHOOK_URL (webhook-modus)", 2)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=3) as r:
            typer.echo(r.read().decode())
    except OSError as e:
        fail(f"ingen svar fra /health på port {port}: {e}")
