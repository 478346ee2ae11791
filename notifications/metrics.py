"""Silent-push metrics: every outcome the services answer, deferrals, forgotten tokens."""

from __future__ import annotations

from prometheus_client import Counter

PUSHES = Counter(
    "focus_push_sent_total",
    "Silent pushes sent, by platform, outcome and the service's reason.",
    ["platform", "outcome", "reason"],
)
DEFERRED = Counter(
    "focus_push_deferred_total",
    "Pushes held back by a device's budget and folded into one delayed push.",
)
RETRIES = Counter(
    "focus_push_retries_scheduled_total",
    "Pushes the service asked us to send later, scheduled as a delayed task.",
    ["platform"],
)
TOKENS_FORGOTTEN = Counter(
    "focus_push_tokens_deactivated_total",
    "Push tokens the services called invalid, no longer used.",
    ["platform"],
)
