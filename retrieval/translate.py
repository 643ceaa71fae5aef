"""Nynorsk → Bokmål, so a Nynorsk question is searched in the documents' own words.

Apertium's ``nno-nob`` pair (Debian package ``apertium-nno-nob``) does it well when it is
installed; without it a built-in map of frequent Nynorsk words and endings does a rougher
job, and :func:`status` says so. Either way the result only feeds the search: the reply
quotes the documents, never the translation.
"""
from __future__ import annotations

import atexit
import logging
import os
import re
import select
import shutil
import signal
import subprocess
import threading
import time
from functools import lru_cache
from pathlib import Path

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


# Characters that are markup in Apertium's stream format; a question never needs them.
_STREAM_SPECIAL = re.compile(r"[\\^$@/<>{}\[\]\x00*~#]|\s+")
_END = b" [][\n]\0"  # a superblank before the null: lt-proc -b waits for one more character


class ApertiumPipe:
    """One long-lived ``nno-nob`` pipeline in null-flush mode.

    Starting Apertium costs about 0.3 s of CPU (eleven programs load their transducers);
    a running pipeline translates a question in about 5 ms. Each stage of the pair's mode
    file runs with ``-z``, every question ends with a null byte, and the answer ends with
    one too. One question at a time goes through (a lock); a pipeline that errs or stalls
    is killed, and the caller falls back to one ``apertium`` run.
    """

    MAX_FAILURES = 3

    def __init__(self, command: str, timeout: float = TIMEOUT):
        self.command = command
        self.timeout = timeout
        self.failures = 0
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_pair(cls, pair: str = APERTIUM_PAIR) -> "ApertiumPipe | None":
        """The pipeline for an installed pair, or None when this Apertium cannot run one."""
        wblank = shutil.which("apertium-wblank-mode")
        if wblank is None or shutil.which("bash") is None:
            return None
        for root in ("/usr/share/apertium", "/usr/local/share/apertium"):
            mode = Path(root) / "modes" / f"{pair}.mode"
            if mode.is_file():
                break
        else:
            return None
        try:
            out = subprocess.run([wblank, "-z", str(mode)], capture_output=True, text=True, timeout=TIMEOUT)
        except (OSError, subprocess.SubprocessError):
            return None
        command = out.stdout.strip()
        if out.returncode != 0 or not command:
            return None
        # $1: the generator's option (-n: no marks on unknown words); $2: the tagger's extra option
        return cls(command.replace("$1", "-n").replace("$2", ""))

    @property
    def usable(self) -> bool:
        return self.failures < self.MAX_FAILURES

    def _start(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                ["bash", "-c", self.command],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, so close() stops every stage
            )
        return self._proc

    def translate(self, text: str) -> str | None:
        """The Bokmål text, or None when the pipeline failed (it is then stopped)."""
        clean = _STREAM_SPECIAL.sub(" ", text).strip()
        if not clean:
            return text
        with self._lock:
            if not self.usable:
                return None
            try:
                proc = self._start()
                proc.stdin.write(clean.encode("utf-8") + _END)
                proc.stdin.flush()
                out = self._read_reply(proc)
            except (OSError, ValueError, TimeoutError) as e:
                self.failures += 1
                log.warning("apertium pipeline failed (%s); restarting it on the next question", type(e).__name__)
                self._stop()
                return None
        text_out = out.decode("utf-8", "replace").replace("[][\n]", " ").replace("[]", " ")
        return " ".join(text_out.split())

    def _read_reply(self, proc: subprocess.Popen) -> bytes:
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + self.timeout
        buf = b""
        while not buf.endswith(b"\0"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise OSError("apertium exited")
                buf += chunk
        return buf[:-1]

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
        for f in (proc.stdin, proc.stdout):
            try:
                f.close()
            except OSError:
                pass

    def close(self) -> None:
        with self._lock:
            self._stop()


@lru_cache(maxsize=1)
def _shared_pipe() -> ApertiumPipe | None:
    """The process's one pipeline (not started until its first question), or None when
    this Apertium cannot run one; like :func:`apertium_available`, decided once."""
    pipe = ApertiumPipe.for_pair()
    if pipe is not None:
        atexit.register(pipe.close)
    return pipe


def _apertium_once(text: str) -> str | None:
    try:
        out = subprocess.run(["apertium", "-u", APERTIUM_PAIR], input=text, capture_output=True, text=True, timeout=TIMEOUT)
    except (OSError, subprocess.SubprocessError) as e:
        log.warning("apertium failed (%s); using the built-in word list", type(e).__name__)
        return None
    if out.returncode == 0 and out.stdout.strip():
        return " ".join(out.stdout.split())
    log.warning("apertium failed (exit %s); using the built-in word list", out.returncode)
    return None


@lru_cache(maxsize=4096)
def nynorsk_to_bokmal(text: str, use_apertium: bool = True) -> str:
    if use_apertium and apertium_available():
        pre = _premap(text)
        pipe = _shared_pipe()
        out = pipe.translate(pre) if pipe is not None else None  # None once it has failed too often
        if out is None:
            out = _apertium_once(pre)
        if out:
            return out
    return fallback(text)


def warm() -> None:
    """Start the Apertium pipeline in the background, so the first Nynorsk question does
    not pay for loading it. Does nothing when Apertium is not installed."""

    def run() -> None:
        if apertium_available() and (pipe := _shared_pipe()) is not None:
            pipe.translate("Kva")

    threading.Thread(target=run, name="apertium-warm", daemon=True).start()
