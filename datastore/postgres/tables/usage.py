"""Tables of the usage area."""

from __future__ import annotations
