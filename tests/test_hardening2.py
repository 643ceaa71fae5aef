"""The second red-team round (issue 22): input, settings, storage and start-up faults get
one clear line and lose nothing. Each test names the defect it reproduces; index faults
are in tests/test_index_faults.py, Telegram's limits in tests/test_telegram_limits.py."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import index.pdf_text as pdf_text
from corpus import BUILTIN_DIR
from index.ingest import IngestError, add_document
from index.manifest import load_corpus

from .test_index import SAMPLE, _pdf

POLICYBOT = [sys.executable, "-m", "bot.cli"]


def _run(args, env_extra=None, timeout=120, input=None, cwd=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")}
    env.update(env_extra or {})
    return subprocess.run(POLICYBOT + args, capture_output=True, text=True, env=env, timeout=timeout, input=input, cwd=cwd)


def _one_clear_line(out, *needles):
    err = out.stderr.strip()
    assert out.returncode != 0, (out.stdout, err)
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if not line[:4].isdigit()]
    assert len(lines) == 1, err
    for n in needles:
        assert n in lines[0], err


# --- 9: corpus add input -------------------------------------------------------------------


def _pdf_bomb(path: Path, mb: int = 60, pages: int = 40) -> Path:
    """A ~200 KB PDF whose pages share one content stream that unpacks to ``mb`` MB of
    text operators: pypdf spends ~8 s and ~370 MB per page on it, unbounded ~5 minutes."""
    op = b"BT /F1 1 Tf 0 0 Td (aaaaaaaaaaaaaaaa) Tj ET\n"
    data = zlib.compress(op * (mb * 1024 * 1024 // len(op)), 9)
    kids = b" ".join(b"%d 0 R" % (6 + i) for i in range(pages))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ] + [page] * pages
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    path.write_bytes(bytes(out))
    return path


@pytest.fixture
def tiny(tmp_path):
    root = tmp_path / "tiny"
    root.mkdir()
    (root / "documents.toml").write_text("", encoding="utf-8")
    return root


def _snapshot(root: Path):
    return sorted(p.name for p in root.iterdir()), (root / "documents.toml").read_text(encoding="utf-8")


def test_a_pdf_bomb_is_refused_within_the_extraction_limits(tmp_path, tiny, monkeypatch):
    bomb = _pdf_bomb(tmp_path / "bomb.pdf")
    assert bomb.stat().st_size < 1_000_000
    before = _snapshot(tiny)
    monkeypatch.setattr(pdf_text, "CPU_SECONDS", 3)
    monkeypatch.setattr(pdf_text, "MEMORY_BYTES", 512 << 20)
    with pytest.raises(IngestError, match="bomb.pdf: .*(CPU|minne|lese)"):
        add_document(tiny, bomb, title="Bombe", publisher="Ukjent")
    assert _snapshot(tiny) == before
    # a real PDF still reads, in the same bounded child
    doc = add_document(tiny, _pdf(tmp_path / "plan.pdf", SAMPLE), title="Plan", publisher="Testpartiet")
    assert "fritidskort" in (tiny / doc.file).read_text(encoding="utf-8")


def test_binary_text_links_and_long_fields_are_refused_by_the_cli(tmp_path):
    corpus_dir = tmp_path / "corpus"
    shutil.copytree(BUILTIN_DIR, corpus_dir, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    env = {"POLICYBOT_CORPUS_DIR": str(corpus_dir), "POLICYBOT_DATA_DIR": str(tmp_path / "data")}
    before = _snapshot(corpus_dir)
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n" * 20, encoding="utf-8")
    (tmp_path / "link.txt").symlink_to(secret)
    (tmp_path / "nul.txt").write_bytes(b"\x00" * 5000)
    (tmp_path / "ctl.txt").write_text(("Et avsnitt om skole. " * 20 + "\x1b[31m\n") * 3, encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text(SAMPLE * 2, encoding="utf-8")
    cases = [
        (["link.txt", "--title", "Pass"], "symbolsk lenke"),
        (["nul.txt", "--title", "Null"], "kontrolltegn U+0000"),
        (["ctl.txt", "--title", "Farger"], "kontrolltegn U+001B"),
        (["good.txt", "--title", "T" * 300], "tittelen er for lang"),
        (["good.txt", "--title", "Tittel\nlinje to"], "linjeskift"),
        (["good.txt", "--title", "Plan", "--publisher", "P" * 500], "utgiveren er for lang"),
        (["/dev/zero", "--title", "Null"], "ikke en vanlig fil"),
    ]
    for args, needle in cases:
        path = args[0] if args[0].startswith("/") else str(tmp_path / args[0])
        extra = [] if "--publisher" in args else ["--publisher", "Testpartiet"]
        out = _run(["corpus", "add", path] + args[1:] + extra, env)
        _one_clear_line(out, needle)
    assert _snapshot(corpus_dir) == before
    assert not any("root:x:0:0" in p.read_text(encoding="utf-8") for p in corpus_dir.glob("*.txt"))


# --- 12: documents.toml field types ------------------------------------------------------------


@pytest.mark.parametrize(
    "entry,needle",
    [
        ('[[document]]\nid = 5\nfile = "a.txt"\ntitle = "T"\n', "id"),
        ('[[document]]\nid = "a"\nfile = "a.txt"\ntitle = "T"\npublisher = ["x", "y"]\n', "publisher"),
        ('[[document]]\nid = "a"\nfile = "a.txt"\ntitle = "T"\nyear = 2023.5\n', "year"),
        ('[[document]]\nid = "a"\nfile = "a.txt"\ntitle = "T"\ninferred = "year"\n', "inferred"),
        ('[document]\nid = "a"\nfile = "a.txt"\ntitle = "T"\n', "[[document]]"),
        ("document = 5\n", "[[document]]"),
    ],
)
def test_wrong_field_types_in_documents_toml_are_one_line(tmp_path, entry, needle):
    (tmp_path / "documents.toml").write_text(entry, encoding="utf-8")
    (tmp_path / "a.txt").write_text(SAMPLE, encoding="utf-8")
    for args in (["corpus", "list"], ["index", "build"], ["index", "status"]):
        out = _run(args, {"POLICYBOT_CORPUS_DIR": str(tmp_path), "POLICYBOT_DATA_DIR": str(tmp_path / "data")})
        _one_clear_line(out, "documents.toml", needle)


def test_a_year_given_as_a_number_still_loads(tmp_path):
    (tmp_path / "documents.toml").write_text('[[document]]\nid = "a"\nfile = "a.txt"\ntitle = "T"\nyear = 2023\n', encoding="utf-8")
    assert load_corpus(tmp_path).documents[0].year == "2023"


# --- 20: search assembles the index like chat ---------------------------------------------------


def test_search_on_a_fresh_data_dir_assembles_the_index_and_names_cli_commands(tmp_path):
    env = {"POLICYBOT_DATA_DIR": str(tmp_path / "data")}
    out = _run(["search", "Vil Ap fjerne kontantstøtten?"], env)
    assert out.returncode == 0, out.stderr
    assert "Fant ingen indeks: bygger den først" in out.stderr
    assert "kontantstøtte" in out.stdout.lower()
    fresh = _run(["search", "kontantstøtten", "--json"], {"POLICYBOT_DATA_DIR": str(tmp_path / "data2")})
    assert fresh.returncode == 0 and "bygger den først" in fresh.stderr
    assert "query" in json.loads(fresh.stdout)  # the build's report went to stderr: stdout is the JSON alone
    out = _run(["search", "Hvor mange mål scoret Haaland i fjor?"], env)
    assert out.returncode == 0 and "Jeg fant ikke noe om dette" in out.stdout
    assert "/dokumenter" not in out.stdout and "policybot corpus list" in out.stdout


# --- 5: SQLite write failures never stop an answer --------------------------------------------

QUESTIONS = ["Vil Ap fjerne kontantstøtten?", "Hva vil dere gjøre med boligprisene?", "Hvor mange nye politistillinger kommer?", "Hva sier Ap om skatt?"]


def _store_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "policybot.engine"]


async def test_a_full_state_database_still_answers_every_question_with_one_log_line(services, caplog):
    from bot.views import AnswerPage

    db = services.store._db  # the store's own connection: cap the file where it is now
    pages = (await (await db.execute("PRAGMA page_count")).fetchone())[0]
    await db.execute(f"PRAGMA max_page_count = {pages}")
    caplog.set_level("WARNING")
    user = services.engine.user(1)
    views = [await services.engine.ask(f"{QUESTIONS[i % 4]} ({i})", user=user) for i in range(30)]
    assert all(isinstance(v, AnswerPage) and v.passages for v in views)
    lines = _store_lines(caplog)
    assert lines and any("full" in line for line in lines), lines
    assert len(lines) <= 3  # one a minute per kind of write (count, save), not one per question
    assert all("\n" not in line and "Traceback" not in line for line in lines)
    assert not any(r.exc_info for r in caplog.records)
    # a user's own action that could not be saved is told so, not silently dropped
    view = await services.engine.set_commitments(user, True)
    assert "fikk ikke lagret" in view.text


async def test_a_lock_held_by_another_process_delays_answers_once_not_per_update(services, caplog):
    from bot.views import AnswerPage

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1])\nc.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\ntime.sleep(60)", str(services.store.path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        caplog.set_level("WARNING")
        users = [services.engine.user(n) for n in range(4)]
        allowed = await asyncio.gather(*(services.engine.allow(u) for u in users))
        views = await asyncio.gather(*(services.engine.ask(q, user=u) for q, u in zip(QUESTIONS, users)))
    finally:
        holder.kill()
        holder.wait()
    assert allowed == [True] * 4
    assert all(isinstance(v, AnswerPage) and v.passages for v in views)
    lines = _store_lines(caplog)
    assert lines and all("locked" in line or "tar ikke imot" in line for line in lines), lines
    assert not any(r.exc_info for r in caplog.records)
    # the store waited for the lock once; the writes after it failed at once (paused)
    assert sum("state.sqlite: database is locked" in line for line in lines) == 1


# --- 2 (the store's part): a state database that cannot be opened ends the process ------------


@pytest.mark.parametrize("command", [["feedback"], ["chat"]])
@pytest.mark.parametrize("fault", ["corrupt", "locked"])
def test_a_bad_state_database_exits_within_ten_seconds(tmp_path, built_index, command, fault, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    db = data / "state.sqlite"
    holder = None
    if fault == "corrupt":
        db.write_bytes(os.urandom(8192))
    else:  # another process holds a write lock for longer than opening waits
        holder = subprocess.Popen(
            [sys.executable, "-c", "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1])\nc.execute('PRAGMA journal_mode=WAL')\nc.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\ntime.sleep(60)", str(db)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout.readline().strip() == "locked"
    try:
        # subprocess.run's timeout is the bound: the process used to hang here for ever
        out = _run(command, {"POLICYBOT_DATA_DIR": str(data), "POLICYBOT_INDEX_DIR": str(built_index[0])}, timeout=10, input="Hva vil Ap med skatt?\n")
    finally:
        if holder:
            holder.kill()
            holder.wait()
    _one_clear_line(out, "tilstandsdatabasen", "kan ikke brukes")


# --- 8: PostgreSQL start-up errors --------------------------------------------------------------

PG_PASSWORD = "S3cret-Pw-9f2c"


def _pg_cases(pg_url: str) -> list[tuple[str, str]]:
    scheme, rest = pg_url.split("://", 1)
    user, host = rest.split("@", 1) if "@" in rest else ("postgres", rest)
    no_db = f"{scheme}://{user.split(':')[0]}:{PG_PASSWORD}@{host}".replace("/postgres?", "/no_such_db?")
    return [
        (f"postgresql://bob:{PG_PASSWORD}@127.0.0.1:notaport/db", "ugyldig verdi"),
        (f"postgresql://bob:{PG_PASSWORD}@[::1/db", "ikke en gyldig PostgreSQL-adresse"),
        (f"postgresql://bob:{PG_PASSWORD}@127.0.0.1:1/db?sslmode=bogus", "sslmode"),
        (f"postgresql://bob:{PG_PASSWORD}@127.0.0.1:9/db", "får ikke kontakt med PostgreSQL på 127.0.0.1:9"),
        (no_db, "avviste"),
    ]


def test_postgres_start_up_errors_are_one_line_without_the_password(tmp_path, pg_url):
    for url, needle in _pg_cases(pg_url):
        out = _run(["feedback"], {"POLICYBOT_DATABASE_URL": url, "POLICYBOT_DATA_DIR": str(tmp_path)}, timeout=10)
        assert PG_PASSWORD not in out.stdout + out.stderr, url
        _one_clear_line(out, needle)


# --- 17, 18: a token read from a secret file; DEBUG logs hold no question or user id ------------


async def test_a_token_ending_in_a_newline_works_and_debug_logs_hold_no_question_or_user_id(tmp_path, built_index):
    from .fake_bot_api import FakeBotAPI
    from .test_telegram import TOKEN

    api = FakeBotAPI(TOKEN)
    await api.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")}
    env.update(
        POLICYBOT_TELEGRAM_TOKEN=TOKEN + "\n",  # as `$(cat /run/secrets/token)` would not, but a file read whole does
        POLICYBOT_TELEGRAM_API_URL=api.base_url,
        POLICYBOT_INDEX_DIR=str(built_index[0]),
        POLICYBOT_DATA_DIR=str(tmp_path),
        POLICYBOT_LOG_LEVEL="DEBUG",
    )
    proc = subprocess.Popen(POLICYBOT + ["run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        await api.wait_for("getUpdates", timeout=90)
        api.push_text("Hva mener Ap om kontantstøtten for småbarnsforeldre?", chat_id=918273645, user_id=918273645)
        sent = await api.wait_for("sendMessage", timeout=60)
        assert "kontantstøtte" in sent[0].params["text"].lower()
    finally:
        proc.terminate()
        _, stderr = await asyncio.to_thread(proc.communicate, timeout=60)
        await api.stop()
    assert proc.returncode == 0, stderr
    assert "DEBUG" in stderr  # the level took effect
    assert "918273645" not in stderr and "småbarnsforeldre" not in stderr
    assert TOKEN.split(":")[1] not in stderr


def test_a_token_with_a_newline_inside_is_refused_in_one_line(tmp_path):
    out = _run(["run"], {"POLICYBOT_TELEGRAM_TOKEN": "123456789:AAHfake-test-token\n-abcdefghijklmnopq", "POLICYBOT_DATA_DIR": str(tmp_path)}, timeout=30)
    _one_clear_line(out, "POLICYBOT_TELEGRAM_TOKEN har feil format")
    assert "abcdefghijklmnopq" not in out.stderr


# --- 19: misspelled settings are named, with the closest real one -------------------------------


def test_misspelled_settings_are_named_with_the_closest_real_one(tmp_path):
    (tmp_path / ".env").write_text("POLICYBOT_WEBHOOK_SECERT=abc\n", encoding="utf-8")
    env = {"POLICYBOT_ADMIN_ID": "42", "POLICYBOT_RETENTON_DAYS": "7", "POLICYBOT_XYZZY": "1", "POLICYBOT_DATA_DIR": str(tmp_path / "data")}
    out = _run(["corpus", "list"], env, cwd=tmp_path)
    assert out.returncode == 0
    warnings = [line.split(": ", 1)[1] for line in out.stderr.splitlines() if "WARNING" in line]
    assert warnings == [
        "POLICYBOT_ADMIN_ID is not a setting and is ignored; did you mean POLICYBOT_ADMIN_IDS?",
        "POLICYBOT_RETENTON_DAYS is not a setting and is ignored; did you mean POLICYBOT_RETENTION_DAYS?",
        "POLICYBOT_WEBHOOK_SECERT is not a setting and is ignored; did you mean POLICYBOT_WEBHOOK_SECRET?",
        "POLICYBOT_XYZZY is not a setting and is ignored; see docs/settings.md",
    ]
    assert "abc" not in out.stderr  # a value is never echoed: it may be a secret


# --- 14: votes on answers past their TTL ------------------------------------------------------


async def test_a_vote_on_an_answer_past_its_ttl_is_refused_like_vis_flere(services):
    import time

    from bot import buttons as b
    from bot.state import AnswerRecord, Prefs

    user = services.engine.user(7)
    old = AnswerRecord("Vil Ap fjerne kontantstøtten?", Prefs(), services.retriever.build, user, created=time.time() - services.store.answer_ttl - 60)
    await services.store.save_answer("oldtok", old)
    more = await services.engine.press(b.More("oldtok", 1), user)
    vote = await services.engine.press(b.Vote("oldtok", False), user)
    assert more.expired and vote.expired
    assert (await services.store.summary()).down == 0
    fresh = await services.engine.ask("Vil Ap fjerne kontantstøtten?", user=user)
    vote = await services.engine.press(b.Vote(fresh.token, False), user)
    assert not getattr(vote, "expired", False) and (await services.store.summary()).down == 1
