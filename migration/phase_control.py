"""Changing an entity's phase: the guardrails on what is stored now, then a compare-and-set."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.migration import (
    MAX_VERIFICATION_AGE,
    Entity,
    Phase,
    PhaseChange,
    PhaseStore,
    check_transition,
    skips_a_phase,
)


async def change_phase(
    store: PhaseStore,
    entity: Entity,
    target: Phase,
    *,
    force: bool,
    by: str,
    reason: str | None,
    now: datetime,
    max_verification_age: timedelta = MAX_VERIFICATION_AGE,
) -> PhaseChange:
    """Moves `entity` to `target` and returns the recorded change.

    Raises `PhaseTransitionRefused` (a guardrail) or `PhaseChangedMeanwhile` (someone else
    changed it between our read and our write: nothing was changed, read again and decide).
    """
    current = (await store.current())[entity]
    check_transition(
        current,
        target,
        last_verification=await store.last_verification(entity),
        now=now,
        force=force,
        max_verification_age=max_verification_age,
    )
    change = PhaseChange(
        entity=entity,
        from_phase=current,
        to_phase=target,
        at=now,
        by=by,
        forced=force and skips_a_phase(current, target),
        reason=reason,
    )
    await store.change(change, expected=current)
    return change
