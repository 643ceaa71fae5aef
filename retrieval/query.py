"""Query preparation: normalise what people type, put it in the documents' language, find
the question in a long message, and expand everyday words with the documents' own
vocabulary from the corpus glossary (corpus/glossary.toml). The result is a
:class:`QueryPlan`: every text the search embeds or matches, and why."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import english, language, question, translate

MAX_QUERY_CHARS = 1000  # default cut for search (POLICYBOT_MAX_QUESTION_CHARS); the model reads ~512 tokens
_WS = re.compile(r"\s+")
_CONTENT_WORD = re.compile(r"[^\W\d_]{4,}")
_SUFFIXES = "(?:en|et|er|ene|a|s)?"


def normalise(text: str, max_chars: int = MAX_QUERY_CHARS) -> str:
    """Collapse whitespace and strip control characters; keep everything else verbatim;
    cut at ``max_chars``."""
    text = "".join(ch for ch in text if ch.isprintable() or ch.isspace())
    return _WS.sub(" ", text).strip()[:max_chars]


@dataclass(frozen=True)
class GlossaryEntry:
    patterns: tuple[re.Pattern, ...]
    add: str


class GlossaryError(Exception):
    """A glossary file that cannot be read."""


class Glossary:
    def __init__(self, entries: list[GlossaryEntry]) -> None:
        self.entries = entries

    @classmethod
    def load(cls, path: Path | None) -> "Glossary":
        if path is None or not Path(path).is_file():
            return cls([])
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise GlossaryError(f"{path}: ikke gyldig UTF-8 TOML ({e})") from e
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
        return list(self._expansions(query.lower()))

    @lru_cache(maxsize=20_000)  # noqa: B019 - entries never change after loading
    def _expansions(self, q: str) -> tuple[str, ...]:
        return tuple(e.add for e in self.entries if any(p.search(q) for p in e.patterns))


@dataclass(frozen=True)
class QueryPlan:
    """What one question is searched with."""

    text: str  # the question, normalised
    lang: str  # nb, nn, en, sv, da (retrieval.language)
    bokmal: str  # the question in the documents' language (Nynorsk translated), else text
    focus: str | None  # the question part of a long message (in Bokmål), or None
    expanded: str  # bokmal followed by the glossary words it triggers
    glossary: tuple[str, ...] = ()  # the glossary additions that fired
    english: tuple[str, ...] = ()  # Bokmål terms for an English question's words (retrieval.english)

    @property
    def dense_texts(self) -> list[str]:
        """Distinct texts to embed: the question as asked and the question part of a long
        message. The model reads Nynorsk as well as the Bokmål translation (the same R@5
        on 21 Nynorsk questions, better MRR), so the translation and the glossary's words
        feed only the lexical scores, and a question costs one model text."""
        return [self.text] + ([self.focus] if self.focus and self.focus != self.text else [])

    @property
    def core(self) -> str:
        """The part that says what is asked: the focus of a long message, else the question."""
        return self.focus or self.bokmal


def plan(
    text: str,
    glossary: Glossary | None = None,
    use_glossary: bool = True,
    use_apertium: bool = True,
    max_chars: int = MAX_QUERY_CHARS,
    known=None,
    use_english: bool = True,
    spell=None,
) -> QueryPlan:
    """``known(word)`` says whether the documents use a word; with it, a Nynorsk question
    that the built-in word list turns entirely into known words skips Apertium.
    ``spell(text)`` puts misspelt words in the documents' spelling (not for English)."""
    q = normalise(text, max_chars)
    lang = language.detect(q)
    if spell is not None and lang != "en":
        q = spell(q)
    bokmal = q
    if lang == "nn":
        rough = translate.fallback(q)
        words = [w for w in _CONTENT_WORD.findall(rough.lower())]
        if known is not None and words and all(known(w) for w in words):
            bokmal = rough  # every word is the documents' own: no need for a translator
        else:
            bokmal = translate.nynorsk_to_bokmal(q, use_apertium)
    focus = question.focus(bokmal)
    adds = tuple(glossary.expansions(bokmal)) if (glossary and use_glossary) else ()
    # English: the documents' words for the question's words, for the lexical side
    terms = english.terms(q) if lang == "en" and use_english else ()
    lexical = adds + terms
    expanded = f"{bokmal} ({'; '.join(lexical)})" if lexical else bokmal
    return QueryPlan(text=q, lang=lang, bokmal=bokmal, focus=focus, expanded=expanded, glossary=adds, english=terms)
