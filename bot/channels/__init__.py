"""The channels people reach the bot through: Telegram, the terminal and the web page.

Each lives here in its own place and shares only the engine (:mod:`bot.engine`), its views
(:mod:`bot.views`), the store (:mod:`bot.state`), the renderers and the command table
(:mod:`bot.commands`); channels never import each other. The server (:mod:`bot.server`)
owns the process lifecycle and the one aiohttp application that server-side channels
(the Telegram webhook, the web page) add their routes to.
"""
