"""The web channel: a chat page on the same engine, server-rendered HTML that works
without JavaScript, a JSON API under it, permalinks to answers. Runs on the server's
aiohttp application (:mod:`bot.server`). See docs/web.md."""
from .channel import WebChannel

__all__ = ["WebChannel"]
