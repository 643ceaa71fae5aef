"""Which words the documents use, seen the way Norwegian writes them: as compounds.

The not-covered decision asks which content words of a question the documents never use
(:meth:`Vocabulary.unknown`): a sign the question is about something else ("cannabis",
"monarkiet", "Eurovision"). Compared whole, words mislead, because Norwegian glues words
together: "biomasse" appears only inside "biomasseressurser", "kriminalpolitikk" and
"bruktmarkedet" are compounds of words the documents use. Counting those as unknown made
the bot say "not covered" to questions the documents answer.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from index.tokenize import STOPWORDS, tokens

_WORD = re.compile(r"[^\W\d_]+")
MIN_PART = 4  # shortest compound part that counts ("skol|e", "døds|hjelp")
UNKNOWN_MIN = 5  # shorter words are too ambiguous to call unknown
# Spelling: a word this long that the documents do not know, one edit away from a word
# they use, is taken for that word ("barnevenet" → "barnevernet"). Shorter words have
# too many real neighbours ("tekste"/"teste", "hundre"/"hindre").
SPELLING_MIN = 8


def content_words(text: str) -> list[str]:
    """The words of ``text`` that could be unknown: five letters or more, not stop words."""
    return [w for w in _WORD.findall(text.lower()) if len(w) >= UNKNOWN_MIN and w not in STOPWORDS]


class Vocabulary:
    """The surface words and stems of a set of texts (the indexed passages)."""

    def __init__(self, texts: Iterable[str], stems: Iterable[str]) -> None:
        words: set[str] = set()
        for t in texts:
            words.update(_WORD.findall(t.lower()))
        self._sorted = sorted(words)
        self._set = frozenset(words)
        self._joined = "\n".join(self._sorted)  # every word once: a substring test over all of them
        self.stems = frozenset(stems)

    def uses(self, word: str) -> bool:
        """Every stem of ``word`` occurs in the documents (the strict test)."""
        stems = tokens(word)
        return bool(stems) and all(s in self.stems for s in stems)

    def begins(self, prefix: str) -> bool:
        """Some word of the documents starts with ``prefix``."""
        i = bisect.bisect_left(self._sorted, prefix)
        return i < len(self._sorted) and self._sorted[i].startswith(prefix)

    def known(self, word: str) -> bool:
        """The documents use ``word``, as it is, as the start of a compound
        ("biomasse|ressurser"), or as a compound of parts they use ("kriminal|politikk",
        "stivkrampe|sprøyte", "politi|s|tasjon")."""
        word = word.lower()
        return word in STOPWORDS or self.uses(word) or (len(word) >= UNKNOWN_MIN and self.begins(word)) or bool(self.split(word))

    @lru_cache(maxsize=20_000)  # noqa: B019 - one Vocabulary per loaded index
    def split(self, word: str) -> tuple[str, ...]:
        """A compound the documents do not use, cut into two parts they do use
        ("bruktmarkedet" → "brukt", "markedet"; the linking s or e dropped), longest head
        first; () when there is no such cut or the word is used as it is."""
        word = word.lower()
        if self.uses(word):
            return ()
        for cut in range(len(word) - MIN_PART, MIN_PART - 1, -1):
            head, tail = word[:cut], word[cut:]
            heads = [head] + ([head[:-1]] if head[-1] in "se" and len(head) > MIN_PART else [])
            for h in heads:
                if self.begins(h) and (self.uses(tail) or (len(tail) >= UNKNOWN_MIN and self.begins(tail))):
                    return (h, tail)
        return ()

    @lru_cache(maxsize=20_000)  # noqa: B019 - one Vocabulary per loaded index
    def completions(self, word: str, limit: int = 3) -> tuple[str, ...]:
        """The documents' compounds that start with ``word``, when they never use
        ``word`` alone ("biomasse" → "biomasseressurser"): the lexical query can then
        match the passage that holds it. Words shorter than 6 letters have too many."""
        word = word.lower()
        if len(word) < 6 or self.uses(word):
            return ()
        i = bisect.bisect_left(self._sorted, word)
        out = []
        while i < len(self._sorted) and self._sorted[i].startswith(word) and len(out) < limit + 1:
            if self._sorted[i] != word:
                out.append(self._sorted[i])
            i += 1
        return tuple(out) if len(out) <= limit else ()

    @lru_cache(maxsize=20_000)  # noqa: B019 - one Vocabulary per loaded index
    def nearest(self, word: str) -> str | None:
        """The documents' word one edit away from ``word`` (a letter left out, added or
        changed, or two neighbours swapped), when ``word`` is long and unknown to them;
        else None."""
        word = word.lower()
        if len(word) < SPELLING_MIN or self.known(word):
            return None
        hit = process.extractOne(word, self._sorted, scorer=OSA.distance, score_cutoff=1)
        return hit[0] if hit else None

    def correct(self, text: str, keep: Callable[[str], bool] = lambda w: False) -> str:
        """``text`` with long misspelt words replaced by the documents' spelling; words
        for which ``keep`` is true are left as they are."""

        def fix(m: re.Match) -> str:
            w = m.group(0)
            n = self.nearest(w)  # cached, and None at once for short words
            return n if n and not keep(w) else w

        return _WORD.sub(fix, text)

    def occurs(self, word: str) -> bool:
        """The documents write ``word`` somewhere: as it is, with another ending (the same
        stem), or inside a longer word ("formuesskatt" in "formuesskatten", "barnehage" in
        "kommunebarnehage"). Stricter than :meth:`known`: a compound of two words the
        documents use ("formues|skatt") does not occur unless they write it."""
        word = word.lower()
        if word in self._set or self.uses(word):
            return True
        stems = tokens(word)
        base = stems[0] if len(stems) == 1 else word
        return len(base) >= MIN_PART + 1 and base in self._joined

    def unknown(self, text: str) -> list[str]:
        """Content words of ``text`` the documents never use."""
        return [w for w in content_words(text) if not self.known(w)]
