"""The built-in corpus: the source documents (plain-text extractions) and their manifest.

This package holds data only. ``BUILTIN_DIR`` is where it lies once installed.
"""
from pathlib import Path

BUILTIN_DIR = Path(__file__).resolve().parent
