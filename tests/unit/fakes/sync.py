from __future__ import annotations


class FakeChangeFeed:
    """In-memory sync storage for unit tests."""
