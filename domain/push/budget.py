"""A device's budget of silent pushes: at most `limit` in any `window`.

Apple throttles background pushes beyond a few per hour per device (and may stop waking the
app); a burst of changes is worth one push, not twenty. Over budget, a push is not dropped:
the highest version waiting is kept, and one delayed push goes out when a slot frees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    limit: int = 3
    window: timedelta = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class BudgetState:
    """What is kept per device: when its recent pushes went out, and what waits."""

    recent: tuple[datetime, ...] = ()
    pending_version: int | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    send_version: int | None
    """Send now, for this version (None: nothing to send now)."""
    send_at: datetime | None
    """Over budget: when the next slot frees (a delayed push should run then)."""
    state: BudgetState


def decide(
    state: BudgetState, policy: BudgetPolicy, now: datetime, version: int | None
) -> Decision:
    """One push wanted for `version` (None: a delayed push, sending what waits)."""
    recent = tuple(sent for sent in state.recent if sent > now - policy.window)
    waiting = _highest(state.pending_version, version)
    if waiting is None:
        return Decision(None, None, BudgetState(recent, None))
    if len(recent) < policy.limit:
        return Decision(waiting, None, BudgetState((*recent, now), None))
    next_slot = min(recent) + policy.window
    return Decision(None, next_slot, BudgetState(recent, waiting))


def _highest(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
