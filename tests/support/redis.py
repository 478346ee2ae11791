"""The machine's Redis (127.0.0.1:6379), where tests count shared rate limits.

Tests never flush it: others use it too. Keys of each test carry a fresh uid, and limits
keyed by address are set high where a test shares Redis with earlier runs.
"""

from __future__ import annotations

import os
import socket

import pytest

REDIS_HOST = os.environ.get("FOCUS_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("FOCUS_TEST_REDIS_PORT", "6379"))


def _answers_ping() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def require_redis() -> str:
    """A `limits` storage URI for the machine's Redis; fails when it is not running."""
    if not _answers_ping():
        pytest.fail(
            f"these tests need Redis at {REDIS_HOST}:{REDIS_PORT}: install and start it"
            " (apt-get install redis-server && redis-server --daemonize yes), or point"
            " FOCUS_TEST_REDIS_HOST / FOCUS_TEST_REDIS_PORT at one"
        )
    return f"async+redis://{REDIS_HOST}:{REDIS_PORT}/0"
