"""Tables of the blocklists area."""

from __future__ import annotations
