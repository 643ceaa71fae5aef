"""Query preparation: normalise what people type, and expand everyday words with the
documents' own vocabulary from the corpus glossary (corpus/glossary.toml)."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

MAX_QUERY_CHARS = 500  # longer questions are cut for search (the model reads ~512 tokens)
_WS = re.compile(r"\s+")
_SUFFIXES = "(?:en|et|er|ene|a|s)?"


def normalise(text: str) -> str:
    """Collapse whitespace and strip control characters; keep everything else verbatim."""
    text = "".join(ch for ch in text if ch.isprintable() or ch.isspace())
    return _WS.sub(" ", text).strip()[:MAX_QUERY_CHARS]


@dataclass(frozen=True)
class GlossaryEntry:
    patterns: tuple[re.Pattern, ...]
    add: str


class Glossary:
    def __init__(self, entries: list[GlossaryEntry]) -> None:
        self.entries = entries

    @classmethod
    def load(cls, path: Path | None) -> "Glossary":
        if path is None or not Path(path).is_file():
            return cls([])
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        entries = []
        for raw in data.get("term", []):
            pats = []
            for term in raw.get("match", []):
                t = re.escape(term.lower())
                # short words only as whole words ("up", "eu", "vin"), longer ones as prefixes
                tail = _SUFFIXES + r"\b" if len(term) <= 4 else r"\w*"
                pats.append(re.compile(rf"(?<!\w){t}{tail}"))
            if pats and raw.get("add"):
                entries.append(GlossaryEntry(tuple(pats), raw["add"]))
        return cls(entries)

    def expansions(self, query: str) -> list[str]:
        q = query.lower()
        return [e.add for e in self.entries if any(p.search(q) for p in e.patterns)]

    def expand(self, query: str) -> str:
        """The query followed by the glossary words it triggers (or the query unchanged)."""
        adds = self.expansions(query)
        return f"{query} ({'; '.join(adds)})" if adds else query
