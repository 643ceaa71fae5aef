"""The one table of chat commands. Telegram's command menu (``set_my_commands``), every
channel's ``/hjelp``, the terminal's router and the web page's controls all come from it,
so a command is added, renamed or described in one place.

Each channel offers the commands whose ``channels`` name it and has one handler per
command name (a test checks that no channel misses a handler or has one too many).
"""
from __future__ import annotations

from dataclasses import dataclass

TELEGRAM = "telegram"
TERMINAL = "terminal"
WEB = "web"
ALL = frozenset({TELEGRAM, TERMINAL, WEB})
CHAT = frozenset({TELEGRAM, TERMINAL})


@dataclass(frozen=True)
class Command:
    name: str
    summary: str  # one short line: Telegram's menu, the terminal's list, a web control's title
    args: str = ""  # how the argument is written, e.g. "<påstand>"
    example: str = ""  # a full example, e.g. "/sjekk Ap vil legge ned kontantstøtten"
    channels: frozenset[str] = ALL
    aliases: tuple[str, ...] = ()
    menu: bool = True  # in Telegram's command menu (admin commands are not)
    terminal_args: str | None = None  # when the terminal takes other arguments

    def usage(self, channel: str) -> str:
        args = self.terminal_args if channel == TERMINAL and self.terminal_args is not None else self.args
        return f"/{self.name}" + (f" {args}" if args else "")

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


COMMANDS: tuple[Command, ...] = (
    Command("start", "Kom i gang, med eksempler", channels=CHAT),
    Command("hjelp", "Slik bruker du boten", aliases=("help",), channels=CHAT),
    Command("dokumenter", "Dokumentene jeg svarer fra"),
    Command("filter", "Velg hvilket dokument jeg søker i", channels=frozenset({TELEGRAM, WEB})),
    Command("dokument", "Søk bare i ett dokument (/nullstill for alle)", args="<id>", channels=frozenset({TERMINAL})),
    Command("lofter", "Bare løfter («… vil:») av/på"),
    Command("nullstill", "Søk i alle dokumenter igjen"),
    Command("flere", "Neste treff på forrige spørsmål", channels=frozenset({TERMINAL})),
    Command("sammenheng", "Teksten rundt treff nummer n", args="<n>", example="/sammenheng 1", channels=frozenset({TERMINAL})),
    Command("sjekk", "Finn løftet en påstand gjelder, ordrett", args="<påstand>", example="/sjekk Ap vil legge ned kontantstøtten"),
    Command("sammenlign", "Hva hvert dokument sier om et tema", args="<tema>", example="/sammenlign politikontakt"),
    Command("tema", "Bla i dokumentenes kapitler og se løftene der", terminal_args="[id [nr [side]]]"),
    Command("oppdater", "Last inn den nyeste indeksen på alle instanser (administratorer)", channels=frozenset({TELEGRAM}), menu=False),
    Command("avslutt", "Avslutt (eller Ctrl-D)", aliases=("exit", "quit"), channels=frozenset({TERMINAL})),
)


def for_channel(channel: str) -> tuple[Command, ...]:
    return tuple(c for c in COMMANDS if channel in c.channels)


def menu() -> list[tuple[str, str]]:
    """Telegram's command menu: (command, description)."""
    return [(c.name, c.summary + (f": {c.example}" if c.example else "")) for c in for_channel(TELEGRAM) if c.menu]


def lookup(channel: str, word: str) -> Command | None:
    """The command a typed ``/word`` means in a channel (case-insensitive, aliases too)."""
    word = word.lower().lstrip("/")
    return next((c for c in for_channel(channel) if word in c.names()), None)


def help_lines(channel: str) -> list[str]:
    """One line per command the channel offers (not /start and /hjelp themselves)."""
    lines = []
    for c in for_channel(channel):
        if c.name in ("start", "hjelp") or not c.menu:
            continue
        example = f" Eksempel: {c.example}" if c.example else ""
        lines.append(f"{c.usage(channel)}: {c.summary}.{example}")
    return lines


def terminal_help() -> str:
    rows = [f"  {c.usage(TERMINAL):<20}{c.summary}" for c in for_channel(TERMINAL) if c.name not in ("start", "hjelp")]
    return "Skriv et spørsmål og trykk Enter. Kommandoer:\n" + "\n".join(rows)
