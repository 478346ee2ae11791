"""A device's budget of silent pushes: at most `limit` in any `window`.

Apple throttles background pushes beyond a few per hour per device (and may stop waking the
app); a burst of changes is worth one push, not twenty. Over budget, a push is not dropped:
the highest version waiting is kept, and one delayed push goes out when a slot frees.

A device also remembers the highest version its push was settled for (sent and the answer
acted on, or left waiting for a slot). An event delivered again, or an older one arriving
late, finds the device covered and takes nothing: a retried fan-out only redoes the devices
whose outcome was not recorded.
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
    settled_version: int | None = None
    """The highest version the device's push was settled for (`PushBudgets.settle`)."""


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
    settled = state.settled_version
    if version is not None and settled is not None and version <= settled:
        return Decision(None, None, BudgetState(recent, state.pending_version, settled))
    waiting = _highest(state.pending_version, version)
    if waiting is None:
        return Decision(None, None, BudgetState(recent, None, settled))
    if len(recent) < policy.limit:
        return Decision(waiting, None, BudgetState((*recent, now), None, settled))
    next_slot = min(recent) + policy.window
    return Decision(None, next_slot, BudgetState(recent, waiting, settled))


def _highest(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
