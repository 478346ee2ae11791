"""Tables of the schedules area."""

from __future__ import annotations
