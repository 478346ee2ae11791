"""What a client requires of a record's current version before a write (RFC 9110 §13.1).

`If-Match` names versions one of which must be current (strong comparison: a weak tag never
matches, `*` asks that the record exists); `If-None-Match` names versions none of which may be
current (`*`: the record must not exist yet, i.e. create only). Checked after the user's lock
is taken, so that what was checked is still true at commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import PreconditionFailed


@dataclass(frozen=True, slots=True)
class Preconditions:
    match: frozenset[int] | None = None
    """`If-Match` versions (None: no If-Match; empty: tags of which none can be ours)."""
    match_any: bool = False
    """`If-Match: *`."""
    none_match: frozenset[int] = frozenset()
    """`If-None-Match` versions."""
    none_match_any: bool = False
    """`If-None-Match: *`."""

    def hold_for(self, current: int | None) -> bool:
        """Whether the conditions hold for a record at version `current` (None: no record)."""
        if (self.match_any or self.match is not None) and current is None:
            return False
        if self.match is not None and current not in self.match:
            return False
        if self.none_match_any and current is not None:
            return False
        return current is None or current not in self.none_match


ExpectedVersion = int | Preconditions | None
"""A bare number is `If-Match: "v<number>"`; None: the client set no condition."""


def check_expected_version(current: int | None, expected: ExpectedVersion, what: str) -> None:
    """Refuses the write (412) unless the client's conditions hold (`current` None: no record)."""
    if expected is None:
        return
    if isinstance(expected, int):
        expected = Preconditions(match=frozenset({expected}))
    if not expected.hold_for(current):
        detail = (
            f"the {what} already exists"
            if current is not None and expected.none_match_any
            else f"the {what} changed since you read it; fetch it again"
        )
        raise PreconditionFailed(detail=detail, current_version=current)
