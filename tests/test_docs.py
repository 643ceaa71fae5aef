"""The docs stay true (as Datasette's do): every setting is documented in
docs/settings.md, and every command and option of the CLI appears in the README."""
from __future__ import annotations

import re
from pathlib import Path

import click
import typer.main

from bot.cli import app
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented():
    doc = (ROOT / "docs/settings.md").read_text(encoding="utf-8")
    missing = [f"POLICYBOT_{name.upper()}" for name in Settings.model_fields if f"`POLICYBOT_{name.upper()}`" not in doc]
    assert not missing, f"undocumented settings in docs/settings.md: {missing}"


def _commands(group: click.Group, prefix: str = ""):
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}".strip()
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path)
        else:
            yield path, cmd


def test_every_command_and_option_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    problems = []
    for path, cmd in _commands(group):
        *parents, leaf = path.split()
        if not re.search(rf"`policybot {re.escape(' '.join(parents))}\s*[^`]*\b{re.escape(leaf)}\b", readme):
            problems.append(f"command: {path}")
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help" and opt not in readme:
                    problems.append(f"{path} {opt}")
    for param in group.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and opt not in ("--help", "--install-completion", "--show-completion") and opt not in readme:
                problems.append(f"global {opt}")
    assert not problems, problems


def test_every_chat_command_is_in_the_readme_and_every_channels_help():
    from bot import commands
    from bot.render_text import render

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    telegram_help = render(commands_engine_help(commands.TELEGRAM))
    terminal_help = commands.terminal_help()
    for c in commands.COMMANDS:
        assert f"`/{c.name}" in readme, c.name
        if c.name in ("start", "hjelp") or not c.menu:  # the help does not list itself
            continue
        if commands.TELEGRAM in c.channels:
            assert f"/{c.name}" in telegram_help, c.name
        if commands.TERMINAL in c.channels:
            assert f"/{c.name}" in terminal_help, c.name
        else:
            assert f"/{c.name}" not in terminal_help, c.name


def commands_engine_help(channel):
    """The engine's /hjelp (it reads only the command table and the wording)."""
    from bot.engine import Engine

    return Engine.help("boten", channel)


def test_the_web_doc_names_every_api_route_and_error_code():
    from bot.channels.web import channel

    doc = (ROOT / "docs/web.md").read_text(encoding="utf-8")
    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "bot/channels/web").glob("*.py")))
    routes = re.findall(r'web\.(get|post)\("(/api/[a-z]+)"', source)
    assert len(routes) >= 13
    for method, path in routes:
        assert f"`{method.upper()} {path}`" in doc, path
    codes = set(re.findall(r'WebError\(\d+, "([a-z_]+)"', source)) | set(re.findall(r'"(empty_[a-z]+)"', source))
    assert {"empty_question", "csrf", "too_large", "rate_limited", "internal", "expired"} <= codes
    for code in codes:
        assert f"| `{code}` |" in doc, code
    assert channel.MAX_QUESTION == 20_000 and "20,000 characters" in doc


def test_every_channel_has_a_handler_for_each_of_its_commands_and_no_other():
    from bot import commands
    from bot.channels.telegram.handlers import TelegramBot
    from bot.channels.terminal import TerminalChat
    from bot.channels.web.channel import CONTROLS

    telegram = TelegramBot.__new__(TelegramBot).command_handlers()
    terminal = TerminalChat.__new__(TerminalChat).handlers()
    assert set(telegram) == {c.name for c in commands.for_channel(commands.TELEGRAM)}
    assert set(terminal) == {c.name for c in commands.for_channel(commands.TERMINAL)}
    assert set(CONTROLS) == {c.name for c in commands.for_channel(commands.WEB)}
