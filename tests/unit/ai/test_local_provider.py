"""The local provider: plain sentences from the features, byte-identical, always valid."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path

import pytest
from hypothesis import given

from ai.local import LocalProvider, insight_for, suggestion_for
from domain.ai.features import WeekFeatures, week_features
from domain.ai.ports import Insight, InsightProvider, Suggestion
from domain.ai.validation import validate_insight, validate_suggestion
from domain.focus_sessions.model import Outcome
from domain.schedules.model import Weekday
from tests.unit.ai import strategies
from tests.unit.ai.builders import session_at_local

WEEK = date(2026, 3, 2)


def _mornings() -> WeekFeatures:
    sessions = [
        session_at_local(datetime(2026, 3, day, 9), 90, "Europe/Berlin", n=day)
        for day in (2, 3, 4, 5, 6)
    ]
    sessions.append(
        session_at_local(datetime(2026, 3, 7, 15), 20, "Europe/Berlin", Outcome.ABANDONED, n=9)
    )
    return week_features(sessions, [], WEEK)


def _bytes(insight: Insight, suggestion: Suggestion) -> bytes:
    return repr((insight, suggestion)).encode()


def test_the_insight_names_the_best_hours_the_completion_rate_and_the_busiest_day() -> None:
    assert insight_for(_mornings()).text == (
        "Your best focus hours were 9:00-11:00 on weekdays, with 450 minutes of focus. "
        "You completed 5 sessions and abandoned 1, a completion rate of 83%. "
        "Monday was your busiest day (90 minutes)."
    )


def test_the_suggestion_protects_the_best_hours_on_the_days_they_were_used() -> None:
    suggestion = suggestion_for(_mornings())

    assert suggestion.days == (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)
    assert (suggestion.start_local, suggestion.end_local) == (time(9), time(11))
    assert suggestion.reason == (
        "Protects your best focus hours, 9:00-11:00, when you focused 450 minutes this week."
    )


def test_a_week_without_focus_gets_an_encouragement_and_a_first_habit() -> None:
    empty = week_features([], [], WEEK)

    insight, suggestion = insight_for(empty), suggestion_for(empty)

    assert insight.text == "No focus sessions this week: one short session is a good start."
    assert (suggestion.start_local, suggestion.end_local) == (time(9), time(11))
    assert validate_insight(insight, empty) == []
    assert validate_suggestion(suggestion, empty) == []


def test_a_week_with_a_session_still_running_and_nothing_else_still_gets_an_insight() -> None:
    running = session_at_local(datetime(2026, 3, 4, 9), 30, "UTC", None)
    features = week_features([running], [], WEEK)

    insight = insight_for(features)

    assert insight.text.startswith("No session has ended this week yet")
    assert validate_insight(insight, features) == []


@pytest.mark.anyio
async def test_the_provider_answers_through_the_port() -> None:
    provider: InsightProvider = LocalProvider()

    insight = await provider.weekly_insight(_mornings())
    suggestion = await provider.schedule_suggestion(_mornings())

    assert provider.name == "local"
    assert insight == insight_for(_mornings())
    assert suggestion == suggestion_for(_mornings())


ROOT = Path(__file__).resolve().parents[3]
_IN_A_FRESH_PROCESS = """
from ai.local import insight_for, suggestion_for
from domain.ai.features import week_features
from tests.unit.ai.eval_set import user_weeks
for week in user_weeks()[:12]:
    f = week_features(week.sessions, week.schedules, week.week_start)
    print(repr((insight_for(f), suggestion_for(f))))
"""


def test_the_output_is_byte_identical_whatever_the_hash_seed() -> None:
    outputs = [
        subprocess.run(
            [sys.executable, "-c", _IN_A_FRESH_PROCESS],
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    ]

    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") == 12


@given(strategies.week_features())
def test_the_same_features_give_the_same_bytes_and_valid_output(features: WeekFeatures) -> None:
    first = _bytes(insight_for(features), suggestion_for(features))
    again = _bytes(insight_for(features), suggestion_for(features))

    assert first == again
    assert validate_insight(insight_for(features), features) == []
    assert validate_suggestion(suggestion_for(features), features) == []
