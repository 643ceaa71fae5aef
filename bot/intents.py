"""What a free-text message is, before anything is searched: a question, small talk
(a greeting, thanks, a lone emoji), a request for help, or a command typed without its
slash ("sjekk: Ap vil ha gratis ferje", "sammenlign barnehage", "tema").

Data in, intent out: :func:`classify` looks only at the text. The engine
(:meth:`bot.engine.Engine.ask`) acts on it, so every channel (Telegram, the terminal, the
web) gets the same behaviour.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

QUESTION = "question"
GREETING = "greeting"
THANKS = "thanks"
HELP = "help"
CHAT = "chat"  # a lone emoji, "ok", "hmm": friendly reply, never searched
CHECK = "check"
COMPARE = "compare"
TOPICS = "topics"


@dataclass(frozen=True)
class Intent:
    kind: str
    arg: str = ""  # the claim, the topic


_GREETING = frozenset(
    "hei heisann hallo halla hallais hei-hei heia hey hi hello hiya yo morn morna god goddag dag morgen kveld ettermiddag "
    "kvelden morgenen der du dere boten bot alle sammen og".split()
)
_THANKS = frozenset(
    "takk tusen mange takker takke thanks thank you ty tnx thx det var den er nyttig nyttige fint flott supert super bra "
    "kjempebra topp perfekt hjelpen hjelp svaret svarene for så mye veldig ok okei oki greit skjønner forstår "
    "great cool nice helpful".split()
)
_CHAT = frozenset("ok okei oki greit ja nei hmm hm aha jaha jasså ah oi wow lol haha hehe".split())
# the words that make a short message one of these, not a question that happens to use them
_THANKS_CORE = frozenset("takk takker takke thanks thank thx tnx ty".split())
_GREETING_CORE = frozenset("hei heisann hallo halla hallais hei-hei heia hey hi hello hiya yo morn morna goddag".split())
_HELP = re.compile(
    r"^(?:hjelp|help|hjelp meg|hva kan du(?: gjøre| svare på| hjelpe med)?|kva kan du(?: gjere)?|hvordan virker du|"
    r"hvordan funker du|hvordan bruker jeg deg|hvem er du|kven er du|what can you do|who are you|how do you work)[\s?!.]*$",
    re.IGNORECASE,
)
# a command without its slash: "sjekk: …", "sjekk …", "sammenlign …", "tema"
_COMMAND = re.compile(r"^(sjekk|check|sammenlign|samanlikn|compare)\b\s*[:\-–—]?\s*(.*)$", re.IGNORECASE | re.DOTALL)
_TOPICS = re.compile(r"^(?:tema|temaer|emner|kapitler|topics)[\s?!.]*$", re.IGNORECASE)
# "Hva sier dokumentene om X": a comparison of the documents, not a question to one of them
_WHAT_DO_DOCS_SAY = re.compile(
    r"^(?:hva|kva)\s+(?:sier|seier|skriver|står (?:det )?i)\s+(?:(?:de|alle|dei)\s+)?(?:ulike\s+)?dokumentene?\s+om\s+(.+?)[\s?!.]*$",
    re.IGNORECASE,
)
_WORD = re.compile(r"[\w-]+", re.UNICODE)


def _only_symbols(text: str) -> bool:
    """Nothing but emoji, punctuation and spaces ("👍", "🙂🙂", "?!")."""
    return bool(text) and all(unicodedata.category(ch)[0] in "SPZC" for ch in text)


def classify(text: str) -> Intent:
    """The intent of one message. Anything that is not plainly small talk, help or a
    command is a question: a wrongly searched greeting costs little, a question taken
    for small talk loses it."""
    t = " ".join(text.split())
    if not t:
        return Intent(QUESTION)
    if _only_symbols(t):
        return Intent(CHAT)
    if m := _COMMAND.match(t):
        verb, arg = m.group(1).lower(), m.group(2).strip()
        return Intent(CHECK if verb in ("sjekk", "check") else COMPARE, arg)
    if _TOPICS.match(t):
        return Intent(TOPICS)
    if m := _WHAT_DO_DOCS_SAY.match(t):
        return Intent(COMPARE, m.group(1).strip())
    if _HELP.match(t):
        return Intent(HELP)
    if "?" in t and len(t) > 25:
        return Intent(QUESTION)
    words = [w.lower() for w in _WORD.findall(t)]
    if not words or len(words) > 8:
        return Intent(QUESTION)
    if all(w in _GREETING for w in words) and any(w in _GREETING_CORE for w in words) or words in (["god", "morgen"], ["god", "kveld"], ["god", "dag"]):
        return Intent(GREETING)
    if any(w in _THANKS_CORE for w in words) and all(w in _THANKS or w in _GREETING for w in words):
        return Intent(THANKS)
    if all(w in _CHAT for w in words):
        return Intent(CHAT)
    return Intent(QUESTION)
