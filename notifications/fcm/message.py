"""A silent push as an FCM HTTP v1 message: data only, so the app (not the system) handles it."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.push.model import SilentPush

MAX_TTL_SECONDS = 28 * 24 * 3600
"""FCM keeps a message at most four weeks; a longer `ttl` is refused as INVALID_ARGUMENT."""


def data_size(data: Mapping[str, str]) -> int:
    """Bytes of the data as it goes on the wire (compact UTF-8 JSON), to compare with FCM's
    4096-byte limit for a data message."""
    return len(_compact(dict(data)))


def ttl_seconds(push: SilentPush, now: datetime) -> int:
    """Whole seconds until the push expires, rounded down: never delivered after `expires_at`."""
    remaining = (push.expires_at - now).total_seconds()
    return max(0, min(MAX_TTL_SECONDS, math.floor(remaining)))


def send_request_body(push: SilentPush, now: datetime) -> bytes:
    """The JSON of `POST /v1/projects/{project}/messages:send`."""
    message: dict[str, Any] = {
        "token": push.token,
        "data": dict(push.data),
        "android": {
            # HIGH wakes a phone in Doze; FCM lowers senders whose HIGH pushes show nothing.
            "priority": "HIGH" if push.urgent else "NORMAL",
            "collapse_key": push.collapse_id,
            "ttl": f"{ttl_seconds(push, now)}s",
        },
    }
    return _compact({"message": message})


def _compact(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
