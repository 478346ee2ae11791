"""The phases of the Firestore → Postgres migration and the guardrails on changing them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.migration import (
    Entity,
    Phase,
    PhaseTransitionRefused,
    Store,
    Verification,
    VerificationMode,
    check_transition,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FIRESTORE_ONLY = Phase.FIRESTORE_ONLY
READ_FIRESTORE = Phase.DUAL_WRITE_READ_FIRESTORE
READ_POSTGRES = Phase.DUAL_WRITE_READ_POSTGRES
POSTGRES_ONLY = Phase.POSTGRES_ONLY


def verified(*, hours_ago: float = 1, passed: bool = True) -> Verification:
    return Verification(
        entity=Entity.USERS,
        finished_at=NOW - timedelta(hours=hours_ago),
        passed=passed,
        mode=VerificationMode.FULL,
        missing=0 if passed else 3,
    )


def refusal(
    current: Phase,
    target: Phase,
    *,
    last: Verification | None = None,
    force: bool = False,
    max_age: timedelta = timedelta(hours=24),
) -> PhaseTransitionRefused:
    with pytest.raises(PhaseTransitionRefused) as refused:
        check_transition(
            current,
            target,
            last_verification=last,
            now=NOW,
            force=force,
            max_verification_age=max_age,
        )
    return refused.value


def allowed(
    current: Phase, target: Phase, *, last: Verification | None = None, force: bool = False
) -> None:
    check_transition(current, target, last_verification=last, now=NOW, force=force)


def test_phases_say_where_writes_and_reads_go() -> None:
    assert [p.value for p in Phase] == [
        "firestore_only",
        "dual_write_read_firestore",
        "dual_write_read_postgres",
        "postgres_only",
    ]
    assert [(p.writes_firestore, p.writes_postgres) for p in Phase] == [
        (True, False),
        (True, True),
        (True, True),
        (False, True),
    ]
    reads = [Store.FIRESTORE, Store.FIRESTORE, Store.POSTGRES, Store.POSTGRES]
    assert [p.reads_from for p in Phase] == reads
    assert [p.source_of_truth for p in Phase] == reads


def test_starting_to_dual_write_needs_no_verification() -> None:
    allowed(FIRESTORE_ONLY, READ_FIRESTORE)


def test_moving_reads_to_postgres_after_a_recent_passed_verify_is_allowed() -> None:
    allowed(READ_FIRESTORE, READ_POSTGRES, last=verified(hours_ago=23))
    allowed(READ_POSTGRES, POSTGRES_ONLY, last=verified(hours_ago=1))


def test_skipping_a_phase_forward_is_refused_without_force() -> None:
    refused = refusal(FIRESTORE_ONLY, READ_POSTGRES, last=verified())

    assert refused.code == "migration_phase_skipped"
    assert "skips dual_write_read_firestore" in refused.detail
    assert "--force" in refused.detail


def test_skipping_a_phase_forward_is_allowed_with_force() -> None:
    allowed(FIRESTORE_ONLY, READ_POSTGRES, last=verified(), force=True)


def test_skipping_a_phase_backward_is_refused_without_force_too() -> None:
    refused = refusal(READ_POSTGRES, FIRESTORE_ONLY)

    assert refused.code == "migration_phase_skipped"
    allowed(READ_POSTGRES, FIRESTORE_ONLY, force=True)


@pytest.mark.parametrize(
    ("current", "target"),
    [(READ_FIRESTORE, FIRESTORE_ONLY), (READ_POSTGRES, READ_FIRESTORE)],
)
def test_going_back_one_phase_before_postgres_only_is_always_allowed(
    current: Phase, target: Phase
) -> None:
    allowed(current, target)  # no verification, no force
    allowed(current, target, last=verified(hours_ago=1000, passed=False))


@pytest.mark.parametrize("target", [FIRESTORE_ONLY, READ_FIRESTORE, READ_POSTGRES])
@pytest.mark.parametrize("force", [False, True])
def test_leaving_postgres_only_is_refused_even_with_force(target: Phase, force: bool) -> None:
    refused = refusal(POSTGRES_ONLY, target, last=verified(), force=force)

    assert refused.code == "migration_phase_one_way"
    assert "one-way" in refused.detail


@pytest.mark.parametrize("phase", list(Phase))
def test_moving_to_the_current_phase_is_refused_as_a_no_op(phase: Phase) -> None:
    refused = refusal(phase, phase, last=verified(), force=True)

    assert refused.code == "migration_phase_unchanged"
    assert f"already in {phase}" in refused.detail


@pytest.mark.parametrize(
    ("current", "target"), [(READ_FIRESTORE, READ_POSTGRES), (READ_POSTGRES, POSTGRES_ONLY)]
)
def test_reading_from_postgres_is_refused_when_never_verified(
    current: Phase, target: Phase
) -> None:
    refused = refusal(current, target)

    assert refused.code == "migration_verification_required"
    assert "never verified" in refused.detail


def test_reading_from_postgres_is_refused_after_a_failed_verify() -> None:
    refused = refusal(READ_FIRESTORE, READ_POSTGRES, last=verified(hours_ago=1, passed=False))

    assert refused.code == "migration_verification_required"
    assert "the last verify failed" in refused.detail
    assert "missing 3" in refused.detail


def test_reading_from_postgres_is_refused_when_the_passed_verify_is_too_old() -> None:
    refused = refusal(READ_FIRESTORE, READ_POSTGRES, last=verified(hours_ago=25))

    assert refused.code == "migration_verification_required"
    assert "25h old" in refused.detail


def test_the_verification_age_limit_can_be_set() -> None:
    refused = refusal(
        READ_FIRESTORE, READ_POSTGRES, last=verified(hours_ago=2), max_age=timedelta(hours=1)
    )

    assert refused.code == "migration_verification_required"


def test_force_does_not_bypass_the_verification_and_says_so() -> None:
    refused = refusal(FIRESTORE_ONLY, POSTGRES_ONLY, force=True)

    assert refused.code == "migration_verification_required"
    assert "--force does not bypass this" in refused.detail
