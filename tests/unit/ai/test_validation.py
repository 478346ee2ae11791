"""Output rules: schema and length, and no number the features do not hold."""

from __future__ import annotations

from datetime import date, time

import pytest

from domain.ai.features import WeekFeatures, features_from_grid
from domain.ai.ports import Insight, Suggestion
from domain.ai.validation import (
    Violation,
    feature_numbers,
    numbers_in_text,
    validate_insight,
    validate_suggestion,
)
from domain.schedules.model import Weekday


def _features() -> WeekFeatures:
    """Focus 9-11 on Monday and Tuesday (45 + 60, 30 + 25 minutes); 4 of 5 sessions done."""
    grid = [[0] * 24 for _ in range(7)]
    grid[0][9], grid[0][10], grid[1][9], grid[1][10] = 45, 60, 30, 25
    return features_from_grid(
        week_start=date(2026, 3, 2),
        grid=tuple(map(tuple, grid)),
        total_minutes=160,
        sessions_started=5,
        sessions_completed=4,
        sessions_abandoned=1,
        schedule_windows=(),
    )


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("at 9:30 today", [9, 30]),
        ("from 09:00", [9]),
        ("25% of it", [25]),
        ("1,200 minutes", [1200]),
        ("9\u201311 on weekdays", [9, 11]),
        ("9,11 and 2.0", [9, 11, 2]),
        ("about 2.5 hours.", [None]),
        ("no numbers at all.", []),
    ],
)
def test_numbers_are_read_from_text_as_people_write_them(
    text: str, numbers: list[int | None]
) -> None:
    assert numbers_in_text(text) == numbers


def test_the_allowed_numbers_are_those_the_features_hold() -> None:
    allowed = feature_numbers(_features())

    assert {9, 11, 160, 80, 105, 55, 4, 1, 5, 2026, 3, 2} <= allowed
    assert 7 not in allowed


def test_an_insight_using_only_the_features_numbers_is_valid() -> None:
    text = "Your best hours were 9\u201311 (09:00 to 11:00), 160 minutes in all; 80% completed."

    assert validate_insight(Insight(text, (9, 11, 160, 80)), _features()) == []


def test_an_invented_number_is_caught() -> None:
    invented = Insight("You focused 14 hours this week, 80% completed.", (80,))

    assert validate_insight(invented, _features()) == [Violation.NUMBER_NOT_IN_FEATURES]


def test_a_decimal_is_caught_as_an_invented_number() -> None:
    rounded = Insight("You focused 2.5 hours on Monday.", ())

    assert validate_insight(rounded, _features()) == [Violation.NUMBER_NOT_IN_FEATURES]


def test_a_declared_number_not_in_the_features_is_caught() -> None:
    assert validate_insight(Insight("Well done.", (999,)), _features()) == [
        Violation.DECLARED_NUMBER_NOT_IN_FEATURES
    ]


@pytest.mark.parametrize(
    ("text", "violation"),
    [
        ("", Violation.TEXT_EMPTY),
        ("   ", Violation.TEXT_EMPTY),
        ("x" * 281, Violation.TEXT_TOO_LONG),
        ("Good week.\nIgnore this.", Violation.CONTROL_CHARACTERS),
        ("Good\u200b week.", Violation.CONTROL_CHARACTERS),
    ],
)
def test_an_empty_overlong_or_hidden_text_is_caught(text: str, violation: Violation) -> None:
    assert validate_insight(Insight(text, ()), _features()) == [violation]


def test_an_insight_of_exactly_the_limit_is_valid() -> None:
    assert validate_insight(Insight("x" * 280, ()), _features()) == []


def _suggestion(
    start: time = time(9),
    end: time = time(11),
    days: tuple[Weekday, ...] = (Weekday.MON, Weekday.TUE),
    reason: str = "Protects your best hours.",
) -> Suggestion:
    return Suggestion(days, start, end, reason)


@pytest.mark.parametrize(
    ("suggestion", "violations"),
    [
        (_suggestion(), []),
        (_suggestion(time(22), time(6)), []),
        (_suggestion(time(8), time(20)), []),
        (_suggestion(days=()), [Violation.NO_DAYS]),
        (_suggestion(days=(Weekday.MON, Weekday.MON)), [Violation.DUPLICATE_DAYS]),
        (_suggestion(time(9), time(9)), [Violation.EMPTY_WINDOW]),
        (_suggestion(time(8), time(20, 1)), [Violation.WINDOW_TOO_LONG]),
        (_suggestion(time(20), time(9)), [Violation.WINDOW_TOO_LONG]),
        (_suggestion(time(9, 0, 30), time(11)), [Violation.WINDOW_NOT_WHOLE_MINUTES]),
        (_suggestion(reason=""), [Violation.TEXT_EMPTY]),
        (_suggestion(reason="x" * 161), [Violation.TEXT_TOO_LONG]),
        (_suggestion(reason="You lose 37 minutes a day."), [Violation.NUMBER_NOT_IN_FEATURES]),
    ],
)
def test_a_suggestion_is_checked_for_schema_window_and_reason(
    suggestion: Suggestion, violations: list[Violation]
) -> None:
    assert validate_suggestion(suggestion, _features()) == violations


def test_a_reason_may_name_the_window_it_proposes() -> None:
    reason = "Blocks 21:15\u201323:45, after 160 minutes."
    named = _suggestion(time(21, 15), time(23, 45), reason=reason)

    assert validate_suggestion(named, _features()) == []
