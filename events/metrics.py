"""The outbox relay's Prometheus metrics, on the process's default registry.

The API exposes that registry (`/internal/metrics`); every relay of the process adds to the
same series. Alert on `focus_outbox_lag_seconds` (events waiting: Pub/Sub down, relay stuck)
and on the rate of `focus_outbox_relay_batches_total{outcome="failed"}`.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PUBLISHED = Counter(
    "focus_outbox_events_published_total",
    "Outbox events published and marked (a republished duplicate counts again).",
)
RELAY_BATCHES = Counter(
    "focus_outbox_relay_batches_total",
    "Claimed outbox batches by outcome; a failed one (publish, mark or commit raised) stays"
    " pending and is retried.",
    ["outcome"],
)
BATCHES_PUBLISHED = RELAY_BATCHES.labels(outcome="published")
BATCHES_FAILED = RELAY_BATCHES.labels(outcome="failed")
LAG = Gauge(
    "focus_outbox_lag_seconds",
    "Age of the first unpublished outbox event in the relay's queue as it last measured it"
    " (0: none).",
)
PUBLISH_SECONDS = Histogram(
    "focus_outbox_publish_seconds",
    "Time from handing a batch to the publisher to its mark's commit, published batches only.",
    # From an in-process batch (ms) to a slow Pub/Sub round (its timeout is 60 s).
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
