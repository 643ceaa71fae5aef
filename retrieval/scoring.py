"""The evaluation's scoring rule (see tests/data/EVAL_FORMAT.md), independent of chunking.

A returned passage answers an item when, after lower-casing and keeping only letters and
digits as space-separated words, it contains one of the gold strings, or a contiguous run
of at least 70 % of a gold string's words.
"""
from __future__ import annotations

import math
import re

_WORDS = re.compile(r"[^\W_]+")


def norm_words(s: str) -> list[str]:
    return _WORDS.findall(s.lower())


def answers(passage: str, gold: list[str], share: float = 0.7) -> bool:
    hay = " " + " ".join(norm_words(passage)) + " "
    for g in gold:
        words = norm_words(g)
        if not words:
            continue
        need = max(1, math.ceil(share * len(words)))
        for size in range(len(words), need - 1, -1):
            for s in range(0, len(words) - size + 1):
                if " " + " ".join(words[s : s + size]) + " " in hay:
                    return True
    return False
