"""Find the question inside a long message.

People write "I am 78 and … . What will you do about …?". The context sentences pull the
search towards the wrong passages, so the search also runs on the question alone and
fuses both. The question is: the sentences that end with a question mark, else the clause
after "lurer på" / "spørsmålet mitt er" / "jeg vil vite", else the last sentence.
"""
from __future__ import annotations

import re

LONG = 120  # characters: shorter messages are searched as they are

_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+|$)")
_ASK = re.compile(
    r"(?:lurer (?:jeg |eg )?på|spørsmålet (?:mitt )?er|jeg vil (?:gjerne )?vite|eg vil (?:gjerne )?vite|"
    r"i wonder|my question is|i want to know)\s*[,:]?\s*(.+)",
    re.IGNORECASE,
)


def _content(text: str) -> list[str]:
    from index.tokenize import tokens

    return [t for t in tokens(text) if len(t) >= 3]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def focus(text: str) -> str | None:
    """The question part of a long message, or None when the message is short or is all
    question already."""
    text = " ".join(text.split())
    if len(text) < LONG:
        return None
    parts = sentences(text)
    if len(parts) < 2:
        return None
    asked = [i for i, s in enumerate(parts) if s.endswith("?")]
    if asked:
        first = asked[-2] if len(asked) > 1 and asked[-2] == asked[-1] - 1 else asked[-1]
        # "Hva vil dere gjøre med dette?" says nothing without the sentence before it
        if first > 0 and len(_content(" ".join(parts[first : asked[-1] + 1]))) < 3:
            first -= 1
        picked = " ".join(parts[first : asked[-1] + 1])
    else:
        m = None
        for s in parts:
            m = _ASK.search(s) or m
        picked = m.group(1) if m else parts[-1]
    picked = picked.strip()
    if len(picked) < 10 or picked == text:
        return None
    return picked
