"""The terminal chat, driven through a pipe like a script would."""
from __future__ import annotations

import os
import subprocess
import sys


def test_chat_answers_questions_from_a_pipe(built_index, tmp_path):
    env = {**os.environ, "POLICYBOT_INDEX_DIR": str(built_index[0]), "POLICYBOT_DATA_DIR": str(tmp_path)}
    env.pop("POLICYBOT_TELEGRAM_TOKEN", None)
    script = "\n".join(
        [
            "Vil Ap fjerne kontantstøtten?",
            "/flere",
            "Hva vil dere gjøre for politiet?",
            "/flere",
            "Hvem vant fotball-VM i 2022?",
            "Hva mener Ap om KRLE-faget i skolen?",
            "/dokument ap-migrasjonsutvalget",
            "kontantstøtten",
            "/ukjent",
            "Hvor mange kroner skal barnetrygden økes med per barn?",
            "",
        ]
    )
    out = subprocess.run([sys.executable, "-m", "bot.cli", "start"], input=script, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "1. «Oslo Arbeiderparti vil: … fjerne kontantstøtten og bruke pengene på billigere barnehage»" in text
    assert "— Trygghet for alle – kampen mot organisert kriminalitet og utenforskap" in text
    assert "Det var alle treffene" in text  # /flere after an answer with no more passages
    assert "\n4. «" in text  # /flere showed the next page
    assert "Jeg fant ikke noe om dette i dokumentene" in text
    assert "Dette er det nærmeste jeg fant – det svarer kanskje ikke direkte på spørsmålet." in text
    assert "Søker nå bare i «Arbeiderpartiets migrasjonsutvalg" in text
    assert "Fjerne kontantstøtten og andre hindre" in text
    assert "kjenner jeg ikke" in text
    assert "Jeg fant ikke noe tall på dette i avsnittene som ligger nærmest." in text
    assert "lokal chat" in out.stderr  # no token: start fell back to the terminal chat
    assert "Nettsiden: http://127.0.0.1:" in out.stderr  # ... and served the web page


def test_start_serves_the_web_page_beside_the_terminal_chat_until_input_ends(built_index, tmp_path):
    import re
    import urllib.request
    from urllib.parse import quote

    env = {**os.environ, "POLICYBOT_INDEX_DIR": str(built_index[0]), "POLICYBOT_DATA_DIR": str(tmp_path)}
    env.pop("POLICYBOT_TELEGRAM_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "start"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        address = None
        for line in proc.stderr:
            if m := re.search(r"Nettsiden: (http://\S+)", line):
                address = m.group(1)
                break
        assert address, "start never printed the web address"
        with urllib.request.urlopen(address + "/?q=" + quote("Vil Ap fjerne kontantstøtten?"), timeout=60) as r:
            html = r.read().decode()
        assert "fjerne kontantstøtten og bruke pengene på billigere barnehage" in html
        out, _ = proc.communicate("Vil Ap fjerne kontantstøtten?\n", timeout=60)  # then end of input
        assert proc.returncode == 0
        assert "billigere barnehage" in out
    finally:
        if proc.poll() is None:
            proc.kill()


def test_start_rebuilds_an_index_of_an_older_format(tmp_path, corpus, embedder):
    """After an upgrade the published index has the old format: start rebuilds it (from the
    shipped vectors, seconds) instead of refusing to answer."""
    import json

    from index.store import FORMAT_VERSION, build_index, current_build

    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, embedder)
    manifest_path = current_build(index_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["format_version"] = FORMAT_VERSION - 1
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    env = {**os.environ, "POLICYBOT_INDEX_DIR": str(index_dir), "POLICYBOT_DATA_DIR": str(tmp_path / "data")}
    env.pop("POLICYBOT_TELEGRAM_TOKEN", None)
    out = subprocess.run([sys.executable, "-m", "bot.cli", "start"], input="Vil Ap fjerne kontantstøtten?\n", capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "eldre versjon" in out.stderr
    assert "fjerne kontantstøtten og bruke pengene på billigere barnehage" in out.stdout
