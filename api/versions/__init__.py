"""The versions this API serves, and what changed between them.

`VERSIONS` lists them oldest first; each `VersionChange` in `CHANGES` says what a version
changed, so that older clients keep what they had. The shapes older versions keep live beside
it (`api/versions/v1.py` when v2 arrives). Adding a version: docs/adr/0003.
"""

from __future__ import annotations

from api.versioning import VersionChange

VERSIONS: tuple[str, ...] = ("v1",)
CHANGES: tuple[VersionChange, ...] = ()
