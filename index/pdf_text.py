"""Extract a PDF's text in a child process with bounded time and memory.

A PDF is a program of sorts: a small file can unpack to gigabytes of content streams
(a "PDF bomb": 2 MB took 157 s and 2.3 GB in pypdf). ``corpus add`` therefore never
parses a PDF in its own process: :func:`extract_pdf` runs ``python -m index.pdf_text``
under ``RLIMIT_AS`` and ``RLIMIT_CPU`` and a wall-clock timeout, and reads back the text.
The child prints the text on stdout (UTF-8) and exits 0, or prints one line on stderr
and exits with one of the codes below.
"""
from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

MEMORY_BYTES = 1 << 30  # address space of the child: pypdf and one large document fit
CPU_SECONDS = 60
WALL_SECONDS = 90
MAX_TEXT_CHARS = 20_000_000  # far beyond any policy document; past this it is not one

EXIT_ENCRYPTED = 3
EXIT_UNREADABLE = 4
EXIT_TOO_LARGE = 5


class PdfError(Exception):
    """One line, in Norwegian, on why the PDF's text could not be had."""


def extract_pdf(path: Path, *, memory: int | None = None, cpu: int | None = None, wall: float | None = None) -> str:
    memory = memory or MEMORY_BYTES
    cpu = cpu or CPU_SECONDS
    wall = wall or WALL_SECONDS

    def limits() -> None:  # in the child, before it runs any Python of ours
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))

    try:
        out = subprocess.run(
            [sys.executable, "-m", "index.pdf_text", str(path)],
            capture_output=True,
            timeout=wall,
            preexec_fn=limits,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise PdfError(f"det tok over {wall:.0f} s å lese teksten (for stor eller laget for å overbelaste)") from None
    message = out.stderr.decode("utf-8", "replace").strip().splitlines()
    if out.returncode == 0:
        return out.stdout.decode("utf-8")
    if out.returncode == EXIT_ENCRYPTED:
        raise PdfError("PDF-en er kryptert")
    if out.returncode == EXIT_UNREADABLE:
        raise PdfError(f"kan ikke lese PDF-en ({message[-1] if message else 'ukjent feil'})")
    if out.returncode == EXIT_TOO_LARGE:
        raise PdfError(f"PDF-en har mer enn {MAX_TEXT_CHARS:,} tegn tekst".replace(",", " "))
    # killed by RLIMIT_CPU (SIGXCPU/SIGKILL) or out of memory (MemoryError, or a crash)
    raise PdfError(
        f"å lese teksten krevde mer enn {cpu} s CPU eller {memory >> 20} MB minne "
        "(for stor eller laget for å overbelaste)"
    )


def _main(path: str) -> int:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            return EXIT_ENCRYPTED
        pages, total = [], 0
        for page in reader.pages:
            text = page.extract_text() or ""
            total += len(text)
            if total > MAX_TEXT_CHARS:
                return EXIT_TOO_LARGE
            pages.append(text)
    except MemoryError:
        return 1
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        print(f"{type(e).__name__}: {str(e)[:200]}", file=sys.stderr)
        return EXIT_UNREADABLE
    sys.stdout.buffer.write("\n\n".join(pages).encode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1]))
