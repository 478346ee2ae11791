"""Focus per local day counts every instant once, however sessions overlap."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from domain.focus_sessions.model import FocusSession, Outcome
from domain.stats.model import focus_per_day
from tests.support.entities import ended_session

T0 = datetime(2026, 3, 8, 0, 0, tzinfo=UTC)  # a DST change in New York that night
ZONES = ("UTC", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati")


def _session(n: int, start_min: int, length_min: int, zone: str, outcome: Outcome) -> FocusSession:
    started = T0 + timedelta(minutes=start_min)
    return ended_session(
        "u", UUID(int=n), started, timedelta(minutes=length_min), zone, outcome, version=n
    )


SESSIONS = st.lists(
    st.tuples(
        st.integers(0, 3 * 24 * 60),
        st.integers(0, 24 * 60),
        st.sampled_from(ZONES),
        st.sampled_from([Outcome.COMPLETED, Outcome.COMPLETED, Outcome.ABANDONED]),
    ),
    max_size=12,
).map(lambda rows: [_session(n, *row) for n, row in enumerate(rows)])


def _minutes_covered(sessions: list[FocusSession]) -> int:
    """The union of the completed sessions, minute by minute: the rule's independent measure."""
    minutes: set[int] = set()
    for s in sessions:
        if s.outcome is Outcome.COMPLETED and s.ended_at is not None:
            first = int((s.started_at - T0).total_seconds()) // 60
            last = int((s.ended_at - T0).total_seconds()) // 60
            minutes.update(range(first, last))
    return len(minutes)


@given(SESSIONS)
def test_all_days_together_count_the_union_of_completed_sessions(
    sessions: list[FocusSession],
) -> None:
    totals = focus_per_day(sessions)

    assert sum(t.focus_seconds for t in totals) == 60 * _minutes_covered(sessions)


@given(SESSIONS)
def test_a_day_never_counts_more_than_its_own_sessions_nor_loses_a_session(
    sessions: list[FocusSession],
) -> None:
    totals = {t.day: t for t in focus_per_day(sessions)}

    for day, total in totals.items():
        own = [s for s in sessions if s.local_date == day and s.outcome is Outcome.COMPLETED]
        assert total.sessions_completed == len(own)
        lengths = [(s.ended_at - s.started_at) // timedelta(seconds=1) for s in own if s.ended_at]
        assert 0 <= total.focus_seconds <= sum(lengths)


def test_three_sessions_over_the_same_minutes_count_them_once() -> None:
    same = [_session(n, 600, 30, "UTC", Outcome.COMPLETED) for n in range(3)]

    (total,) = focus_per_day(same)

    assert (total.day, total.focus_seconds, total.sessions_completed) == (date(2026, 3, 8), 1800, 3)


def test_sessions_apart_add_up() -> None:
    apart = [
        _session(0, 60, 30, "UTC", Outcome.COMPLETED),
        _session(1, 120, 45, "UTC", Outcome.COMPLETED),
    ]

    assert [t.focus_seconds for t in focus_per_day(apart)] == [75 * 60]
