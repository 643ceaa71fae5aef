"""How the model's threads share two cores with everything else. Imported before numpy and
the model are loaded (the variables are read once, when their libraries start).

* One BLAS thread: the model already spreads each call over the cores with OpenMP, and a
  second thread pool fighting it for them doubled search latency.
* OpenMP threads spin for a while after each parallel step before they sleep. At the
  library's default (300,000 spins) they burned the cores the event loop and the next
  searches needed: the bot spent 49 ms of CPU per answer under load; with 10,000 spins
  38-46 ms, and the same single-question latency (docs/benchmarks.md).

Both are defaults: a deployment's own environment wins.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("GOMP_SPINCOUNT", "10000")
