from __future__ import annotations


class FakeUsageReportRepository:
    """In-memory usage storage for unit tests."""
