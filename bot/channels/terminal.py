"""The local chat in the terminal, on the same engine and state store as the Telegram bot.

Reads one question per line (also from a pipe, so it can be scripted) and prints the
answers as plain text with their citations. The commands are the terminal's rows of the
command table (:mod:`bot.commands`); this module has one handler per name.

Input is read by a daemon thread, so Ctrl-C ends the chat at once (it used to wait for
the next Enter while the default executor's thread sat in ``readline``). Bytes that are
not UTF-8 are replaced, not fatal, and control characters (escape sequences) are removed
from every line before anything can echo them back to the terminal.
"""
from __future__ import annotations

import asyncio
import re
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TextIO

from ..commands import TERMINAL, lookup, terminal_help
from ..render_text import render
from ..services import Services
from ..views import AnswerPage, SectionView

TERMINAL_USER = "terminal"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # keeps tab; newlines are stripped anyway
ASK_FIRST = "Still et spørsmål først."
CONTEXT_USAGE = "Skriv /sammenheng og nummeret på et treff som vises, for eksempel /sammenheng 1."


class TerminalChat:
    """One terminal conversation: the last answer (for /flere and /sammenheng) and the
    handlers of the terminal's commands. A handler returns the text to print, or None to
    end the chat."""

    def __init__(self, services: Services) -> None:
        self.engine = services.engine
        self.user = self.engine.user(TERMINAL_USER)
        self.last: AnswerPage | None = None

    def handlers(self) -> dict[str, Callable[[str], Awaitable[str | None]]]:
        return {
            "start": self.start,
            "hjelp": self.help,
            "dokumenter": self.documents,
            "dokument": self.document,
            "lofter": self.commitments,
            "nullstill": self.reset,
            "flere": self.more,
            "sammenheng": self.context,
            "sjekk": self.check,
            "sammenlign": self.compare,
            "tema": self.topics,
            "avslutt": self.quit,
        }

    async def line(self, line: str) -> str | None:
        if not line.startswith("/"):
            view = await self.engine.ask(line, user=self.user, source="terminal")
            self.last = view if isinstance(view, AnswerPage) else self.last
            # "tema" typed without the slash: the terminal lists with numbers, not buttons
            return _browse(self.engine, []) if _is_topic_menu(view) else render(view)
        word, _, arg = line.partition(" ")
        command = lookup(TERMINAL, word)
        if command is None:
            return render(self.engine.unknown_command(word.lower()))
        return await self.handlers()[command.name](arg.strip())

    async def start(self, arg: str) -> str:
        return render(self.engine.welcome(telegram=False)) + "\n\n" + terminal_help()

    async def help(self, arg: str) -> str:
        return terminal_help()

    async def documents(self, arg: str) -> str:
        return render(self.engine.documents_view())

    async def document(self, arg: str) -> str:
        return render(await self.engine.set_document(self.user, arg))

    async def commitments(self, arg: str) -> str:
        return render(await self.engine.set_commitments(self.user))

    async def reset(self, arg: str) -> str:
        return render(await self.engine.reset(self.user))

    async def more(self, arg: str) -> str:
        if self.last is None:
            return ASK_FIRST
        view = await self.engine.page(self.last.token, self.last.page + 1)
        if isinstance(view, AnswerPage):
            self.last = view
        return render(view)

    async def context(self, arg: str) -> str:
        passage = None
        if self.last is not None and arg.isdigit():
            passage = next((p for p in self.last.passages if p.number == int(arg)), None)
        if passage is None:
            return CONTEXT_USAGE
        return render(await self.engine.context(passage.chunk.id.rsplit("#", 1)[-1]))

    async def check(self, arg: str) -> str:
        return render(await self.engine.check(arg, user=self.user, source="terminal"))

    async def compare(self, arg: str) -> str:
        return render(await self.engine.compare(arg, user=self.user, source="terminal"))

    async def topics(self, arg: str) -> str:
        return _browse(self.engine, arg.split())

    async def quit(self, arg: str) -> None:
        return None


async def chat(services: Services, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    conversation = TerminalChat(services)

    def say(text: str) -> None:
        stdout.write(text + "\n\n")
        stdout.flush()

    if interactive:
        say(render(services.engine.welcome(telegram=False)) + "\n\n" + terminal_help())
    lines = _reader(stdin)
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = await lines.get()
        if line is None:
            break
        line = _CONTROL.sub("", line).strip()
        if not line:
            continue
        reply = await conversation.line(line)
        if reply is None:
            break
        say(reply)


def _is_topic_menu(view) -> bool:
    """The engine's /tema menu (a message whose buttons open documents)."""
    from ..buttons import Topic
    from ..views import Message

    return isinstance(view, Message) and any(isinstance(x.data, Topic) for row in view.buttons for x in row)


def _reader(stdin: TextIO) -> "asyncio.Queue[str | None]":
    """Lines from ``stdin`` (None at the end), read by a daemon thread: a process ending on
    Ctrl-C never waits for it. Bytes that are not UTF-8 become U+FFFD."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    binary = getattr(stdin, "buffer", None)

    def read() -> None:
        try:
            while True:
                raw = binary.readline() if binary is not None else stdin.readline()
                if not raw:
                    break
                line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except (OSError, ValueError, UnicodeDecodeError):
            pass  # a closed or unreadable stdin ends the chat like end of input
        finally:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, None)
            except RuntimeError:  # the loop is gone: the chat has already ended
                pass

    threading.Thread(target=read, daemon=True, name="terminal-input").start()
    return queue


def _browse(engine, args: list[str]) -> str:
    """/tema in the terminal: numbered subsections instead of buttons."""
    docs = {d.id: d for d in engine.documents()}
    if not args:
        return "Dokumenter (skriv /tema <id>):\n" + "\n".join(f"  {d.id}: {d.title}" for d in docs.values())
    doc = docs.get(args[0])
    if doc is None:
        return "Ukjent dokument. Skriv /tema for listen."
    node = int(args[1]) if len(args) > 1 and args[1].isdigit() else 0
    page = int(args[2]) - 1 if len(args) > 2 and args[2].isdigit() and int(args[2]) > 0 else 0
    view = engine.topics(engine.doc_digest(doc.id), node, page)
    if not isinstance(view, SectionView):
        return render(view)
    tree = engine.retriever.sections[doc.id]
    subs = [f"  /tema {doc.id} {c}: {tree.nodes[c].title} ({tree.nodes[c].total})" for c in tree.nodes[node].children]
    out = render(view) + ("\n\nKapitler:\n" + "\n".join(subs) if subs else "")
    if view.page + 1 < view.pages:  # every page is reachable: the next one is named
        out += f"\n\nNeste side: /tema {doc.id} {node} {view.page + 2}"
    return out


def run_terminal_chat(services: Services, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    async def main() -> None:
        await services.open()
        try:
            await chat(services, stdin, stdout)
        finally:
            await services.close()

    _run_quietly(main)


def run_terminal_chat_with_server(services: Services, server, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    """The terminal chat beside a server (``policybot start`` without a token: the web
    page). ``server(stop, ready)`` is the server's coroutine: it opens and closes the
    services and sets ``ready`` once it listens. The chat starts then, and ends at end of
    input (or /avslutt), which stops the server."""

    async def main() -> None:
        stop, ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(server(stop, ready))
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if task.done():
            task.result()  # it failed to start: raise its error
            return
        try:
            await chat(services, stdin, stdout)
        finally:
            stop.set()
            await task

    _run_quietly(main)


def _run_quietly(main) -> None:
    try:
        asyncio.run(main())
    except KeyboardInterrupt:  # Ctrl-C: end the chat quietly, like /avslutt
        sys.stdout.write("\n")
