"""The evaluation's scoring rule (see tests/data/EVAL_FORMAT.md), independent of chunking.

A returned passage answers an item when, after lower-casing and keeping only letters and
digits as space-separated words, it contains one of the gold strings, or a contiguous run
of at least 70 % of a gold string's words.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

_WORDS = re.compile(r"[^\W_]+")


def norm_words(s: str) -> list[str]:
    return _WORDS.findall(s.lower())


def haystack(passage: str) -> str:
    """A passage as :func:`answers_in` reads it (normalise once, test many gold strings)."""
    return " " + " ".join(norm_words(passage)) + " "


def answers(passage: str, gold: list[str], share: float = 0.7) -> bool:
    return answers_in(haystack(passage), gold, share)


@lru_cache(maxsize=4096)
def _gold_words(g: str) -> tuple[str, ...]:
    return tuple(norm_words(g))


def answers_in(hay: str, gold: list[str], share: float = 0.7) -> bool:
    for g in gold:
        words = _gold_words(g)
        if not words:
            continue
        need = max(1, math.ceil(share * len(words)))
        # every run of `need` or more words (need > half of them) contains this word
        if share > 0.5 and " " + words[len(words) - need] + " " not in hay:
            continue
        for size in range(len(words), need - 1, -1):
            for s in range(0, len(words) - size + 1):
                if " " + " ".join(words[s : s + size]) + " " in hay:
                    return True
    return False
