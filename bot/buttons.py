"""Typed button data (Telegram's ``callback_data``, at most 64 bytes), in the manner of
aiogram's ``CallbackData``: each button is a small dataclass with a prefix; ``pack()``
writes ``prefix:field:field`` and refuses anything over 64 bytes, ``unpack()`` parses it
back into the right class or returns None for data we did not make (old or forged).
``unpack()`` is the one parser: channels call it once and route by the typed result."""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import ClassVar

MAX_BYTES = 64
_SAFE = re.compile(r"^[A-Za-z0-9_\-]*$")


class ButtonDataError(ValueError):
    pass


@dataclass(frozen=True)
class CallbackData:
    prefix: ClassVar[str] = ""

    def pack(self) -> str:
        parts = [self.prefix]
        for f in fields(self):
            v = getattr(self, f.name)
            s = str(int(v)) if isinstance(v, bool) else str(v)
            if not _SAFE.match(s):
                raise ButtonDataError(f"{type(self).__name__}.{f.name}: unsafe value {s!r}")
            parts.append(s)
        data = ":".join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ButtonDataError(f"{data!r} is longer than {MAX_BYTES} bytes")
        return data

    @classmethod
    def parse(cls, data: str):
        parts = data.split(":")
        if parts[0] != cls.prefix or len(parts) != len(fields(cls)) + 1:
            return None
        values = {}
        for f, raw in zip(fields(cls), parts[1:]):
            try:
                if f.type in ("int", int):
                    if not re.fullmatch(r"-?\d{1,6}", raw):
                        return None
                    values[f.name] = int(raw)
                elif f.type in ("bool", bool):
                    if raw not in ("0", "1"):
                        return None
                    values[f.name] = raw == "1"
                else:
                    values[f.name] = raw
            except ValueError:
                return None
        return cls(**values)


@dataclass(frozen=True)
class More(CallbackData):
    """"Vis flere" / "Forrige": a page of an earlier answer."""

    prefix: ClassVar[str] = "p"
    token: str
    page: int


@dataclass(frozen=True)
class Context(CallbackData):
    """"Sammenheng": a passage with its neighbours."""

    prefix: ClassVar[str] = "x"
    chunk: str  # the part of the chunk id after '#'


@dataclass(frozen=True)
class Vote(CallbackData):
    prefix: ClassVar[str] = "v"
    token: str
    up: bool


@dataclass(frozen=True)
class FilterDoc(CallbackData):
    prefix: ClassVar[str] = "fd"
    doc: str  # digest of the document id


@dataclass(frozen=True)
class FilterAll(CallbackData):
    prefix: ClassVar[str] = "fa"


@dataclass(frozen=True)
class FilterCommitments(CallbackData):
    prefix: ClassVar[str] = "fc"


@dataclass(frozen=True)
class Topic(CallbackData):
    """/tema: a document's section (``node``; 0 is the document, -1 the list of
    documents), page ``page`` of its passages."""

    prefix: ClassVar[str] = "t"
    doc: str  # digest of the document id ("" for the list of documents)
    node: int
    page: int


@dataclass(frozen=True)
class TopicPromises(CallbackData):
    """A section's promises, its subsections' included, page ``page`` (a topic answer's
    "Alle N løfter")."""

    prefix: ClassVar[str] = "tp"
    doc: str
    node: int
    page: int


@dataclass(frozen=True)
class CheckPrompt(CallbackData):
    """"Sjekk et løfte": explains /sjekk."""

    prefix: ClassVar[str] = "sj"


ALL: tuple[type[CallbackData], ...] = (More, Context, Vote, FilterDoc, FilterAll, FilterCommitments, Topic, TopicPromises, CheckPrompt)


def unpack(data: str | None) -> CallbackData | None:
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    for cls in ALL:
        got = cls.parse(data)
        if got is not None:
            return got
    return None
