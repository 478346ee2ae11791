"""What focus sessions use cases need from storage."""

from __future__ import annotations

from typing import Protocol


class FocusSessionRepository(Protocol):
    """To be filled in with the area's model."""
