"""Hedge words (corpus/hedges.toml): which words make a passage promise less than it
sounds ("vurdere", "se på", "utrede", "arbeide for")."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .query import GlossaryError


@dataclass(frozen=True)
class Hedges:
    patterns: tuple[tuple[str, re.Pattern], ...] = ()

    @classmethod
    def load(cls, path: Path | None) -> "Hedges":
        if path is None or not Path(path).is_file():
            return cls()
        try:
            words = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("hedges", [])
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise GlossaryError(f"{path}: ikke gyldig UTF-8 TOML ({e})") from e
        # longest first, so "se nærmere på" wins over "se på"
        ordered = sorted({str(w).strip().lower() for w in words if str(w).strip()}, key=len, reverse=True)
        return cls(tuple((w, re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, w.split())) + (r"\w*" if " " not in w else r"\b"), re.IGNORECASE)) for w in ordered))

    def find(self, text: str) -> str | None:
        """The first hedge word the text uses (as written in the list), or None."""
        best: tuple[int, str] | None = None
        for word, pattern in self.patterns:
            m = pattern.search(text)
            if m and (best is None or m.start() < best[0]):
                best = (m.start(), word)
        return best[1] if best else None
