"""The lexical analyser shared by the BM25 index and the query side: lower-case words,
Norwegian stop words removed, Snowball (Norwegian) stems."""
from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_NORWEGIAN

_WORD = re.compile(r"[^\W_]{2,}|\d+")
# Words that carry no topic in questions about the documents ("hva mener Ap om …").
_EXTRA_STOP = frozenset(
    "ap arbeiderpartiet arbeiderparti partiet dere vil ønsker mener gjøre gjør hva hvordan hvorfor "
    "hvor hvem hvilke hvilken noe noen skal kan bli blir får ha har være er".split()
)
STOPWORDS = frozenset(STOPWORDS_NORWEGIAN) | _EXTRA_STOP
_stemmer = Stemmer.Stemmer("norwegian")


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def tokens(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]
