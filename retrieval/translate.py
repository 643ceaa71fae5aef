"""Nynorsk → Bokmål, so a Nynorsk question is searched in the documents' own words.

Apertium's ``nno-nob`` pair (Debian package ``apertium-nno-nob``) does it well when it is
installed; without it a built-in map of frequent Nynorsk words and endings does a rougher
job, and :func:`status` says so. Either way the result only feeds the search: the reply
quotes the documents, never the translation.
"""
from __future__ import annotations

import logging
import re
import shutil
import subprocess
from functools import lru_cache

log = logging.getLogger("policybot.translate")

APERTIUM_PAIR = "nno-nob"
TIMEOUT = 5.0

# Frequent Nynorsk words whose Bokmål form differs. Used by the fallback, and before
# Apertium for words it renders oddly ("fleire" comes out as "gjentatte").
WORDS = {
    "kva": "hva", "korleis": "hvordan", "kvifor": "hvorfor", "kven": "hvem", "kvar": "hvor",
    "kor": "hvor", "ikkje": "ikke", "eg": "jeg", "meg": "meg", "dykk": "dere", "dykkar": "deres",
    "noko": "noe", "nokon": "noen", "nokre": "noen", "mykje": "mye", "fleire": "flere",
    "berre": "bare", "frå": "fra", "eit": "et", "ein": "en", "dei": "de", "desse": "disse",
    "vere": "være", "gjere": "gjøre", "gjer": "gjør", "heile": "hele", "heilt": "helt",
    "saman": "sammen", "sjølv": "selv", "utan": "uten", "meir": "mer", "seier": "sier",
    "synest": "synes", "treng": "trenger", "meiner": "mener", "skule": "skole",
    "skular": "skoler", "skulen": "skolen", "kommunar": "kommuner", "bustad": "bolig",
    "bustader": "boliger", "bustadar": "boliger", "kyrkje": "kirke", "kyrkjer": "kirker",
    "noreg": "norge", "framleis": "fortsatt", "sidan": "siden", "difor": "derfor", "vart": "ble",
    "vorte": "blitt", "eige": "egen", "eigne": "egne", "allereie": "allerede", "kome": "komme",
    "kjem": "kommer", "fekk": "fikk", "høyre": "høre", "no": "nå", "òg": "også", "ho": "hun",
    "leiar": "leder", "leiarar": "ledere", "rettleiar": "veileder", "rettleiaren": "veilederen",
    "hovud": "hoved", "oppgåve": "oppgave", "oppgåver": "oppgaver", "oppgåvene": "oppgavene",
    "heime": "hjemme", "vatn": "vann", "mjølk": "melk", "fram": "frem", "døme": "eksempel",
    "ungdomar": "ungdommer", "born": "barn", "borna": "barna", "arbeidsplassar": "arbeidsplasser",
    "innbyggjarar": "innbyggere", "lærarar": "lærere", "lærar": "lærer", "elevar": "elever",
    "pengar": "penger", "lettare": "lettere", "vanskeleg": "vanskelig", "viktig": "viktig",
    "einsleg": "enslig", "ulovleg": "ulovlig", "mogleg": "mulig", "moglegheit": "mulighet",
}
# Nynorsk stems inside compounds ("folkehøgskulane", "kyrkjelydar", "bustadpolitikk")
_INFIXES = (("skul", "skol"), ("kyrkj", "kirk"), ("bustad", "bolig"), ("heim", "hjem"), ("fleir", "fler"))
_ENDINGS = (("ingane", "ingene"), ("ingar", "inger"), ("inga", "ingen"), ("leg", "lig"), ("lege", "lige"), ("ane", "ene"), ("ar", "er"))
_TOKEN = re.compile(r"\w+|\W+")


def _fallback_word(w: str) -> str:
    low = w.lower()
    if low in WORDS:
        out = WORDS[low]
    else:
        out = low
        for a, b in _INFIXES:
            out = out.replace(a, b)
        if len(low) > 6:
            for a, b in _ENDINGS:
                if out.endswith(a):
                    out = out[: -len(a)] + b
                    break
    if out == low:
        return w
    return out.capitalize() if w[:1].isupper() else out


def fallback(text: str) -> str:
    """The built-in approximation: frequent words and regular endings."""
    return "".join(_fallback_word(t) if t[:1].isalpha() else t for t in _TOKEN.findall(text))


def _premap(text: str) -> str:
    # words Apertium gets wrong in this domain
    return re.sub(r"\b([Ff])leire\b", lambda m: m.group(1) + "lere", text)


@lru_cache(maxsize=1)
def apertium_available() -> bool:
    if shutil.which("apertium") is None:
        return False
    try:
        out = subprocess.run(["apertium", "-l"], capture_output=True, text=True, timeout=TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return False
    return APERTIUM_PAIR in out.stdout.split()


def status() -> str:
    """One line for logs and `policybot doctor`-style output."""
    if apertium_available():
        return "nynorsk: Apertium nno-nob"
    return "nynorsk: innebygd ordliste (installer apertium-nno-nob for bedre oversettelse)"


@lru_cache(maxsize=4096)
def nynorsk_to_bokmal(text: str, use_apertium: bool = True) -> str:
    if use_apertium and apertium_available():
        try:
            out = subprocess.run(
                ["apertium", "-u", APERTIUM_PAIR], input=_premap(text), capture_output=True, text=True, timeout=TIMEOUT
            )
            if out.returncode == 0 and out.stdout.strip():
                return " ".join(out.stdout.split())
            log.warning("apertium failed (exit %s); using the built-in word list", out.returncode)
        except (OSError, subprocess.SubprocessError) as e:
            log.warning("apertium failed (%s); using the built-in word list", type(e).__name__)
    return fallback(text)
