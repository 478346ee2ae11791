from __future__ import annotations


class FakeBlocklistRepository:
    """In-memory blocklists storage for unit tests."""
