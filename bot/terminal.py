"""The local chat in the terminal, on the same engine and state store as the Telegram bot.

Reads one question per line (also from a pipe, so it can be scripted) and prints the
answers as plain text with their citations. Commands: /hjelp, /dokumenter,
/dokument <id>, /lofter, /nullstill, /flere, /sammenheng <n>, /avslutt.
"""
from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from .render_text import render
from .services import Services
from .views import AnswerPage

TERMINAL_HELP = (
    "Skriv et spørsmål og trykk Enter. Kommandoer:\n"
    "  /dokumenter        dokumentene jeg svarer fra\n"
    "  /dokument <id>     søk bare i ett dokument (/nullstill for alle)\n"
    "  /lofter            bare løfter («… vil:») av/på\n"
    "  /nullstill         søk i alle dokumenter igjen\n"
    "  /flere             neste treff på forrige spørsmål\n"
    "  /sammenheng <n>    teksten rundt treff nummer n\n"
    "  /sjekk <påstand>   finn løftet en påstand gjelder (/sjekk Ap vil legge ned kontantstøtten)\n"
    "  /sammenlign <tema> hva hvert dokument sier (/sammenlign politikontakt)\n"
    "  /tema [id [nr]]    bla i kapitlene: /tema, /tema <dokument-id>, /tema <dokument-id> <kapittelnr>\n"
    "  /avslutt           avslutt (eller Ctrl-D)"
)
TERMINAL_USER = "terminal"


async def chat(services: Services, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    engine = services.engine
    interactive = stdin.isatty()
    user = engine.user(TERMINAL_USER)

    def say(text: str) -> None:
        stdout.write(text + "\n\n")
        stdout.flush()

    if interactive:
        say(render(engine.welcome(telegram=False)) + "\n\n" + TERMINAL_HELP)
    last: AnswerPage | None = None
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        line = line.strip()
        if not line:
            continue
        command, _, arg = line.partition(" ")
        command = command.lower()
        if command in ("/avslutt", "/exit", "/quit"):
            break
        if command in ("/hjelp", "/help", "/start"):
            say(TERMINAL_HELP)
        elif command == "/dokumenter":
            say(render(engine.documents_view()))
        elif command == "/dokument":
            say(render(await engine.set_document(user, arg.strip())))
        elif command == "/lofter":
            say(render(await engine.set_commitments(user)))
        elif command == "/nullstill":
            say(render(await engine.reset(user)))
        elif command == "/flere":
            if last is None:
                say("Still et spørsmål først.")
                continue
            view = await engine.page(last.token, last.page + 1)
            if isinstance(view, AnswerPage):
                last = view
            say(render(view))
        elif command == "/sammenheng":
            passage = None
            if last is not None and arg.strip().isdigit():
                passage = next((p for p in last.passages if p.number == int(arg)), None)
            if passage is None:
                say("Skriv /sammenheng og nummeret på et treff som vises, for eksempel /sammenheng 1.")
                continue
            say(render(await engine.context(passage.chunk.id.rsplit("#", 1)[-1])))
        elif command == "/sjekk":
            say(render(await engine.check(arg, user=user, source="terminal")))
        elif command == "/sammenlign":
            say(render(await engine.compare(arg, user=user, source="terminal")))
        elif command == "/tema":
            say(_browse(engine, arg.split()))
        elif command.startswith("/"):
            say(render(engine.unknown_command(command)))
        else:
            view = await engine.ask(line, user=user, source="terminal")
            last = view if isinstance(view, AnswerPage) else last
            say(render(view))


def _browse(engine, args: list[str]) -> str:
    """/tema in the terminal: numbered subsections instead of buttons."""
    from .views import SectionView

    docs = {d.id: d for d in engine.documents()}
    if not args:
        return "Dokumenter (skriv /tema <id>):\n" + "\n".join(f"  {d.id}: {d.title}" for d in docs.values())
    doc = docs.get(args[0])
    if doc is None:
        return "Ukjent dokument. Skriv /tema for listen."
    node = int(args[1]) if len(args) > 1 and args[1].isdigit() else 0
    view = engine.topics(engine.doc_digest(doc.id), node, 0)
    if not isinstance(view, SectionView):
        return render(view)
    tree = engine.retriever.sections[doc.id]
    subs = [f"  /tema {doc.id} {c}: {tree.nodes[c].title} ({tree.nodes[c].total})" for c in tree.nodes[node].children]
    return render(view) + ("\n\nKapitler:\n" + "\n".join(subs) if subs else "")


def run_terminal_chat(services: Services, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    async def main() -> None:
        await services.open()
        try:
            await chat(services, stdin, stdout)
        finally:
            await services.close()

    asyncio.run(main())


