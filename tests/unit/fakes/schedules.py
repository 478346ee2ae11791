from __future__ import annotations


class FakeScheduleRepository:
    """In-memory schedules storage for unit tests."""
