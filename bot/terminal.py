"""The local chat in the terminal, on the same engine as the Telegram bot.

Reads one question per line (also from a pipe, so it can be scripted) and prints the
answers as plain text with their citations. Commands: /hjelp, /dokumenter,
/dokument <id>, /lofter, /nullstill, /flere, /sammenheng <n>, /avslutt.
"""
from __future__ import annotations

import sys
from typing import TextIO

from retrieval.search import Retriever

from .engine import Engine, Prefs
from .feedback import FeedbackStore
from .settings import Settings

TERMINAL_HELP = (
    "Skriv et spørsmål og trykk Enter. Kommandoer:\n"
    "  /dokumenter        dokumentene jeg svarer fra\n"
    "  /dokument <id>     søk bare i ett dokument (/nullstill for alle)\n"
    "  /lofter            bare løfter («… vil:») av/på\n"
    "  /flere             neste treff på forrige spørsmål\n"
    "  /sammenheng <n>    teksten rundt treff nummer n\n"
    "  /avslutt           avslutt (eller Ctrl-D)"
)


def run_terminal_chat(settings: Settings, retriever: Retriever, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    feedback = FeedbackStore(settings.feedback_db, settings.feedback_salt.get_secret_value())
    engine = Engine(retriever, feedback, per_page=settings.results_per_page, max_question_chars=settings.max_question_chars)
    interactive = stdin.isatty()
    user = feedback.user_hash("terminal")

    def say(text: str) -> None:
        stdout.write(text + "\n\n")
        stdout.flush()

    if interactive:
        say(engine.welcome().plain + "\n\n" + TERMINAL_HELP)
    prefs = Prefs()
    last_token: str | None = None
    last_page = 0
    last_ids: list[str] = []
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = stdin.readline()
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
            say(engine.documents_reply().plain + "\n(id-er: " + ", ".join(sorted(retriever.docs)) + ")")
        elif command == "/dokument":
            if arg.strip() in engine.retriever.docs:
                prefs = Prefs(doc_id=arg.strip(), commitments_only=prefs.commitments_only)
                say(f"Søker nå bare i «{engine.retriever.docs[prefs.doc_id].title}».")
            else:
                say("Ukjent dokument. Bruk en id fra /dokumenter.")
        elif command == "/lofter":
            reply = engine.set_commitments(prefs)
            prefs = reply.prefs or prefs
            say(reply.plain)
        elif command == "/nullstill":
            reply = engine.reset_filters()
            prefs = reply.prefs or prefs
            say(reply.plain)
        elif command == "/flere":
            if last_token is None:
                say("Still et spørsmål først.")
                continue
            reply = engine.page(last_token, last_page + 1)
            if reply.found:
                last_page += 1
                last_ids = reply.chunk_ids
            say(reply.plain)
        elif command == "/sammenheng":
            try:
                n = int(arg) - 1 - last_page * engine.per_page
                chunk_id = last_ids[n] if n >= 0 else None
            except (ValueError, IndexError):
                chunk_id = None
            if chunk_id is None:
                say("Skriv /sammenheng og nummeret på et treff som vises, for eksempel /sammenheng 1.")
                continue
            say(engine.context(chunk_id.rsplit("#", 1)[-1]).plain)
        elif command.startswith("/"):
            say(engine.unknown_command(command).plain)
        else:
            reply = engine.ask(line, prefs, user_hash=user, source="terminal")
            last_token, last_page, last_ids = reply.token, 0, reply.chunk_ids
            say(reply.plain)
    feedback.close()
