"""Prometheus metrics (prometheus-client), served at ``/metrics`` beside the health
endpoints. One registry per process; every name starts with ``policybot_``.
docs/operations.md lists the alerts to set on them."""
from __future__ import annotations

import time
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE  # noqa: F401 - for the server

REGISTRY = CollectorRegistry(auto_describe=True)

RECEIVED = Counter("policybot_updates_received", "Updates committed to the inbox for the first time", registry=REGISTRY)
ANSWERED = Counter("policybot_updates_answered", "Updates processed to the end and marked done", registry=REGISTRY)
DUPLICATE = Counter("policybot_updates_duplicate", "Deliveries of an update that was done or held by a live lease", ["state"], registry=REGISTRY)
RETRIED = Counter("policybot_updates_retried", "Updates taken again: a re-delivery or sweep after a lease expired or a release", registry=REGISTRY)
RELEASED = Counter("policybot_updates_released", "Updates given back to the inbox unfinished (store errors, drain)", registry=REGISTRY)
REFUSED = Counter("policybot_updates_refused", "Deliveries answered 503 (store unreachable or draining)", ["reason"], registry=REGISTRY)
STORE_ERRORS = Counter("policybot_store_errors", "Calls to the state store that failed", registry=REGISTRY)
ANSWERS = Counter("policybot_answers", "Questions answered, by outcome", ["outcome"], registry=REGISTRY)  # covered, caveat, not_covered, other
STAGE = Histogram(
    "policybot_stage_seconds", "Time per stage: queue (received to taken), search, send", ["stage"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
IN_HAND = Gauge("policybot_updates_in_hand", "Updates this replica holds a lease on", registry=REGISTRY)
READY = Gauge("policybot_ready", "1 when the readiness check passes", registry=REGISTRY)
BUILD = Gauge("policybot_build_info", "The index build served (value 1) and whether it is the published one", ["build", "published"], registry=REGISTRY)


def set_build(served: str, published: str | None) -> None:
    BUILD.clear()
    BUILD.labels(build=served, published="true" if published in (None, served) else "false").set(1)


def count_answer(view: object) -> None:
    """A question's outcome: covered, covered with the caveat, not covered, or other (the
    question was read as a claim to check, a comparison, a chapter list or small talk)."""
    from .views import AnswerPage, NotCovered

    if isinstance(view, NotCovered):
        ANSWERS.labels("not_covered").inc()
    elif isinstance(view, AnswerPage):
        ANSWERS.labels("caveat" if view.confidence == "low" else "covered").inc()
    else:
        ANSWERS.labels("other").inc()


@contextmanager
def timed(stage: str):
    t = time.perf_counter()
    try:
        yield
    finally:
        STAGE.labels(stage).observe(time.perf_counter() - t)


def render() -> bytes:
    return generate_latest(REGISTRY)
