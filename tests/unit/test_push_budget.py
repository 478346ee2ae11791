"""A device gets at most `limit` silent pushes per window; the rest fold into one later push."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.push.budget import BudgetPolicy, BudgetState, decide

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
POLICY = BudgetPolicy(limit=3, window=timedelta(hours=1))


def test_pushes_within_the_budget_go_out_at_once() -> None:
    state = BudgetState()
    for minute, version in enumerate((5, 6, 7)):
        decision = decide(state, POLICY, T0 + timedelta(minutes=minute), version)
        assert decision.send_version == version
        assert decision.send_at is None
        state = decision.state
    assert len(state.recent) == 3


def test_a_push_over_the_budget_waits_for_the_oldest_slot_to_free() -> None:
    state = BudgetState((T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)))

    decision = decide(state, POLICY, T0 + timedelta(minutes=3), 9)

    assert decision.send_version is None
    assert decision.send_at == T0 + timedelta(hours=1)
    assert decision.state.pending_version == 9


def test_a_burst_keeps_only_the_highest_version_waiting() -> None:
    state = BudgetState((T0, T0, T0))
    for version in (12, 15, 13):
        state = decide(state, POLICY, T0 + timedelta(minutes=5), version).state
    assert state.pending_version == 15


def test_the_delayed_push_sends_what_waited_once_a_slot_is_free() -> None:
    state = BudgetState((T0, T0, T0), pending_version=15)

    decision = decide(state, POLICY, T0 + timedelta(hours=1, seconds=1), None)

    assert decision.send_version == 15
    assert decision.state.pending_version is None
    assert decision.state.recent == (T0 + timedelta(hours=1, seconds=1),)


def test_a_delayed_push_with_nothing_waiting_sends_nothing() -> None:
    decision = decide(BudgetState((T0,)), POLICY, T0 + timedelta(hours=2), None)
    assert decision.send_version is None
    assert decision.send_at is None


def test_a_new_change_sent_in_budget_also_carries_a_higher_waiting_version() -> None:
    state = BudgetState((T0,), pending_version=20)
    assert decide(state, POLICY, T0 + timedelta(minutes=1), 18).send_version == 20


def test_a_version_the_device_was_settled_for_takes_nothing_again() -> None:
    state = BudgetState((T0,), settled_version=20)

    for version in (20, 18):  # the same event delivered again, an older one arriving late
        decision = decide(state, POLICY, T0 + timedelta(minutes=1), version)
        assert decision.send_version is None
        assert decision.send_at is None
        assert decision.state == state


def test_a_newer_version_than_the_settled_one_is_sent() -> None:
    state = BudgetState((T0,), settled_version=20)

    decision = decide(state, POLICY, T0 + timedelta(minutes=1), 21)

    assert decision.send_version == 21
    assert decision.state.settled_version == 20  # settled once its outcome is recorded
