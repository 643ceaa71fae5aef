"""The ``policybot`` command line.

    policybot start                 Telegram bot if a token is set, else the terminal chat
    policybot chat                  local chat in the terminal (reads stdin line by line)
    policybot run [--webhook]       the Telegram bot
    policybot search QUESTION       search and print passages (--json for machines)
    policybot eval FILE.jsonl       retrieval evaluation
    policybot index build|status|verify|chunks
    policybot corpus add|list
    policybot feedback              summary of votes and unanswered questions

Global options (before the subcommand) override the POLICYBOT_* settings. One module per
group of commands; this one puts them together.
"""
from __future__ import annotations

import index.threads  # noqa: F401 - thread settings, before numpy and the model load

import typer

from index.manifest import CorpusError

from . import check_cmds, corpus_cmds, index_cmds, query_cmds, serve_cmds  # noqa: F401 - they register their commands
from .root import app

__all__ = ["app", "main"]


def main() -> None:
    try:
        app(prog_name="policybot")
    except CorpusError as e:
        typer.secho(f"Feil: {e}", err=True, fg=typer.colors.RED)
        raise SystemExit(1) from None
    except OSError as e:  # a file or folder the command needed (data directory, disk full)
        typer.secho(f"Feil: {e.strerror or e}: {e.filename or ''}".rstrip(": "), err=True, fg=typer.colors.RED)
        raise SystemExit(1) from None
