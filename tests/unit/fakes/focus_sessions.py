from __future__ import annotations


class FakeFocusSessionRepository:
    """In-memory focus sessions storage for unit tests."""
