"""Which language a question is written in: Bokmål (``nb``), Nynorsk (``nn``), English
(``en``), Swedish (``sv``) or Danish (``da``).

The documents are Bokmål. A question in another language must never be judged off-topic
because its words are not Bokmål words, so the rest of the pipeline asks this module
first. Detection counts marker words that are frequent in one language and rare or absent
in Bokmål; a question without such markers is Bokmål. Short questions carry few markers,
so one strong marker is enough for Nynorsk, and English needs two function words (one
English word in a Norwegian question, like "Airbnb", is not English).
"""
from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+")

NYNORSK = frozenset(
    """
    kva korleis kvifor kven kvar kor ikkje eg dykk dykkar noko nokon nokre mykje fleire berre frå
    eit dei desse vere gjere gjer heile heilt saman sjølv utan meir seier synest treng
    høyrer skule skular kommunar bustad bustader kyrkje kyrkjer noreg norsk-språkleg framleis
    sidan etter_kvart difor blitt vorte vart einskilde ulike nokså veldig
    òg mellom eldre no kunne ville skulle eige eigne eigen meiner allereie kome kjem fekk
    """.split()
)
# Words that also occur in Bokmål and only count together with a clearly Nynorsk one.
_NN_WEAK = frozenset("eldre no kunne ville skulle mellom ulike veldig blitt etter_kvart".split())
_NN_SUFFIX = re.compile(r"(?:leg|lege|ane|ingar|inga|aren|ast|asjonar|kje|ar)$")
_NN_INFIX = re.compile(r"kkj|rkj|kje$")  # ikkje, dekkje, kyrkje: Nynorsk spelling

ENGLISH = frozenset(
    """
    the what does do did is are was were how will would should could which who whom why when where
    of and with about according there their this that these those it its be been have has
    to for on at from by an any many much people party labour labor want plan government
    """.split()
)
_EN_STRONG = frozenset("the what does do did is are was were how will would should which who why of and with about according their this that".split())

SWEDISH = frozenset("vad hur inte och är varför någon några mycket också skall jag vill kommer hos blir ska att".split())
_SV_STRONG = frozenset("vad hur inte och är varför någon några mycket också".split())
DANISH = frozenset("hvad hvordan ikke jeg mig dig nogen meget hvorfor af også bliver skal vil".split())
_DA_STRONG = frozenset("mig dig jer jeres nogen meget af hjælpe hjælp".split())


def detect(text: str) -> str:
    """``nb``, ``nn``, ``en``, ``sv`` or ``da``."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return "nb"
    en = sum(w in _EN_STRONG for w in words)
    en_any = sum(w in ENGLISH for w in words)
    if en >= 2 or (en == 1 and en_any >= 3) or (en == 1 and len(words) <= 3 and words[0] in _EN_STRONG):
        return "en"
    nn_strong = sum((w in NYNORSK and w not in _NN_WEAK) or bool(_NN_INFIX.search(w)) for w in words)
    nn_suffix = sum(bool(_NN_SUFFIX.search(w)) and len(w) > 6 for w in words)
    if nn_strong >= 1 and (nn_strong + nn_suffix >= 2 or len(words) <= 12 or nn_strong / len(words) > 0.05):
        return "nn"
    if sum(w in _SV_STRONG for w in words) >= 2 or any("ä" in w or "ö" in w for w in words):
        return "sv"
    if sum(w in _DA_STRONG for w in words) >= 2:
        return "da"
    return "nb"
