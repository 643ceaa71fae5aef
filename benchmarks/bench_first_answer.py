"""Time to first answer: `policybot start` (what `make run` runs after installing) with a
fresh data directory and no token, a question on standard input; seconds until the first
answer is printed. Includes loading the model and assembling the index from the shipped
vectors; no embedding of passages.

    .venv/bin/python benchmarks/bench_first_answer.py [--runs 3] [--out docs/bench-first-answer.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def once() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")}
        env["POLICYBOT_DATA_DIR"] = str(Path(tmp) / "data")
        t = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "start"], cwd=tmp, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        proc.stdin.write("Vil Ap fjerne kontantstøtten?\n")
        proc.stdin.flush()
        for line in proc.stdout:
            if line.startswith("1. «"):
                elapsed = time.monotonic() - t
                break
        else:
            raise SystemExit("no answer")
        proc.stdin.close()
        proc.wait(60)
        return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    times = [once() for _ in range(args.runs)]
    result = {"runs": [round(t, 2) for t in times], "median_s": round(statistics.median(times), 2), "max_s": round(max(times), 2)}
    print(json.dumps(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
