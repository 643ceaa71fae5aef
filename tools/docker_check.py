"""`make docker-check`: build the Docker image and run it for real.

Builds with tools/docker-base-image.sh (which makes a local python:3.11-slim where Docker
Hub is unreachable), then checks that:
  1. questions piped to `docker run -i` are answered, in Bokmål, Nynorsk and English (the
     terminal chat, no token);
  2. in webhook mode with a token (against the stand-in Bot API on 127.0.0.1, host
     network) the container's HEALTHCHECK turns healthy, and it runs as a non-root user;
  3. the glossary, the hedge list, the shipped vectors, Apertium and the language
     classifier are in the image;
and prints the image size. Exits non-zero on the first failure.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TAG = "policybot:check"
TOKEN = "123456789:AAHdocker-check-token-abcdefghijklmn"


def run(*args: str, input: str | None = None, check: bool = True, timeout: float = 1800) -> subprocess.CompletedProcess:
    out = subprocess.run(list(args), input=input, capture_output=True, text=True, timeout=timeout)
    if check and out.returncode != 0:
        raise SystemExit(f"FAILED: {' '.join(args)}\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return out


def ok(msg: str) -> None:
    print(f"ok  {msg}", flush=True)


async def webhook_check() -> None:
    from tests.fake_bot_api import FakeBotAPI

    api = FakeBotAPI(TOKEN)
    await api.start()
    name = "policybot-check"
    run("docker", "rm", "-f", name, check=False)
    env = {
        "POLICYBOT_TELEGRAM_TOKEN": TOKEN,
        "POLICYBOT_TELEGRAM_API_URL": api.base_url,
        "POLICYBOT_WEBHOOK_URL": "https://bot.example.org",
        "POLICYBOT_WEBHOOK_SECRET": "docker-check-secret",
        "POLICYBOT_WEBHOOK_LISTEN": "127.0.0.1",
        "POLICYBOT_WEBHOOK_PORT": "18443",
    }
    args = ["docker", "run", "-d", "--name", name, "--network", "host", "--health-interval", "2s", "--health-start-period", "5s"]
    for k, v in env.items():
        args += ["-e", f"{k}={v}"]
    run(*args, TAG)
    try:
        deadline = time.monotonic() + 180
        status = ""
        while time.monotonic() < deadline:
            status = run("docker", "inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()
            if status == "healthy":
                break
            if run("docker", "inspect", "--format", "{{.State.Running}}", name).stdout.strip() != "true":
                raise SystemExit("FAILED: the container stopped:\n" + run("docker", "logs", name, check=False).stderr[-2000:])
            await asyncio.sleep(1)
        if status != "healthy":
            raise SystemExit(f"FAILED: health is {status!r}\n" + run("docker", "logs", name, check=False).stderr[-2000:])
        ok("webhook mode with a token: HEALTHCHECK healthy")
        assert api.calls_of("setWebhook"), "no setWebhook call"
        ok("the container registered its webhook with the (stand-in) Bot API")
        uid = run("docker", "exec", name, "id", "-u").stdout.strip()
        if uid == "0":
            raise SystemExit("FAILED: the container runs as root")
        ok(f"runs as a non-root user (uid {uid})")
        logs = run("docker", "logs", name, check=False)
        if TOKEN in logs.stdout + logs.stderr:
            raise SystemExit("FAILED: the token appears in the logs")
        ok("the token never appears in the container's logs")
    finally:
        run("docker", "rm", "-f", name, check=False)
        await api.stop()


def main() -> None:
    t = time.monotonic()
    run("bash", str(ROOT / "tools/docker-base-image.sh"), str(ROOT), TAG)
    ok(f"image {TAG} built in {time.monotonic() - t:.0f} s")
    questions = "Vil Ap fjerne kontantstøtten?\nKva meiner Ap om kontantstøtta?\nWill Labour train more midwives?\n"
    out = run("docker", "run", "-i", "--rm", TAG, input=questions, timeout=300)
    for passage in ("fjerne kontantstøtten og bruke pengene på billigere barnehage", "utdanne flere jordmødre"):
        if passage not in out.stdout:
            raise SystemExit(f"FAILED: no answer with «{passage}»\n{out.stdout[-1500:]}\n{out.stderr[-1500:]}")
    ok("questions piped to `docker run -i` are answered (Bokmål, Nynorsk, English)")
    probe = (
        "import corpus, json, retrieval.translate as t;"
        "d = corpus.BUILTIN_DIR;"
        "from retrieval import english, language;"
        "print(json.dumps({f: (d / f).is_file() for f in ('glossary.toml', 'hedges.toml', 'embeddings.npz')}"
        " | {'english.toml': bool(english.terms('midwives')),"
        " 'apertium': t.apertium_available(), 'py3langid': language._classifier() is not None}))"
    )
    found = json.loads(run("docker", "run", "--rm", "--entrypoint", "python", TAG, "-c", probe).stdout)
    if not all(found.values()):
        raise SystemExit(f"FAILED: missing from the image: {found}")
    ok(f"in the image: {', '.join(found)}")
    asyncio.run(webhook_check())
    size = int(run("docker", "image", "inspect", "--format", "{{.Size}}", TAG).stdout.strip())
    ok(f"image size {size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
