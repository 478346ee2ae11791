"""Tables of the focus sessions area."""

from __future__ import annotations
