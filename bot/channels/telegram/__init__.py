"""The Telegram channel (python-telegram-bot): handlers, the ``Application`` and its
webhook route. The server runs it beside its aiohttp application."""
from .application import TelegramChannel, build_application
from .webhook import SECRET_HEADER

__all__ = ["SECRET_HEADER", "TelegramChannel", "build_application"]
