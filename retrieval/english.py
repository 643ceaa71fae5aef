"""English questions, seen by the lexical side of the search.

The documents are Norwegian, so an English question shares no stems or n-grams with them
and BM25 contributes nothing: the ranking rests on the model alone. A list of general
policy words (``english.toml`` beside this file) gives the Bokmål words the documents use
for them ("midwives" → "jordmor jordmødre"); :func:`terms` returns those of a question,
and :func:`retrieval.query.plan` adds them to the lexical query of a question detected as
English. Like the glossary and the Nynorsk translation, they only feed the search: the
reply quotes the documents.
"""
from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

PATH = Path(__file__).with_name("english.toml")
_WORD = re.compile(r"[a-z]+")


@lru_cache(maxsize=1)
def _words() -> dict[str, str]:
    try:
        data = tomllib.loads(PATH.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}  # a broken install: English falls back to the model alone
    return {str(k).lower(): str(v) for k, v in data.get("words", {}).items()}


def terms(text: str) -> tuple[str, ...]:
    """The Bokmål search terms for the English words of ``text``, in order, each once."""
    words = _words()
    out: list[str] = []
    for w in _WORD.findall(text.lower()):
        t = words.get(w) or (words.get(w[:-1]) if w.endswith("s") else None)
        if t and t not in out:
            out.append(t)
    return tuple(out)
