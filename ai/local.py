"""The local provider: rule-based sentences from the features, the embedded default and fallback.

Deterministic by construction: the same features give byte-identical output (no clock, no
randomness, nothing that depends on the order of a set or a dict), and only numbers the
features hold are written, so its output always passes `domain.ai.validation`.
"""

from __future__ import annotations

from datetime import time

from domain.ai.features import FocusWindow, WeekFeatures
from domain.ai.ports import Insight, Suggestion
from domain.ai.validation import MAX_INSIGHT_CHARS
from domain.schedules.model import Weekday

_DAY_NAMES = {
    Weekday.MON: "Monday",
    Weekday.TUE: "Tuesday",
    Weekday.WED: "Wednesday",
    Weekday.THU: "Thursday",
    Weekday.FRI: "Friday",
    Weekday.SAT: "Saturday",
    Weekday.SUN: "Sunday",
}
_ALL_DAYS = tuple(Weekday)
_WORKDAYS = _ALL_DAYS[:5]
_WEEKEND = _ALL_DAYS[5:]
_NOTHING_ENDED = "No session has ended this week yet: its focus counts once it is completed."
_FIRST_HABIT = Suggestion(
    days=_WORKDAYS,
    start_local=time(9),
    end_local=time(11),
    reason="A short morning block on weekdays is an easy first focus habit to keep.",
)


class LocalProvider:
    """Implements `InsightProvider` without leaving the process."""

    @property
    def name(self) -> str:
        return "local"

    async def weekly_insight(self, features: WeekFeatures) -> Insight:
        return insight_for(features)

    async def schedule_suggestion(self, features: WeekFeatures) -> Suggestion:
        return suggestion_for(features)


def insight_for(f: WeekFeatures) -> Insight:
    """Best hours, how many sessions were completed, the busiest day: as many as fit."""
    sentences: list[tuple[str, tuple[int, ...]]] = []
    if f.best_window is not None:
        w = f.best_window
        sentences.append(
            (
                f"Your best focus hours were {_hours(w)} on {_days(w.days)}, "
                f"with {_count(w.minutes, 'minute')} of focus.",
                (w.start_hour, w.end_hour, w.minutes),
            )
        )
    if f.sessions_started == 0:
        sentences.append(("No focus sessions this week: one short session is a good start.", ()))
    elif f.sessions_completed + f.sessions_abandoned:
        sentences.append(
            (
                f"You completed {_count(f.sessions_completed, 'session')} and abandoned "
                f"{f.sessions_abandoned}, a completion rate of {f.completion_rate_percent}%.",
                (f.sessions_completed, f.sessions_abandoned, f.completion_rate_percent),
            )
        )
    if f.busiest_day is not None:
        minutes = f.minutes_by_weekday[_ALL_DAYS.index(f.busiest_day)]
        sentences.append(
            (
                f"{_DAY_NAMES[f.busiest_day]} was your busiest day ({_count(minutes, 'minute')}).",
                (minutes,),
            )
        )
    return _fitting(sentences or [(_NOTHING_ENDED, ())])


def suggestion_for(f: WeekFeatures) -> Suggestion:
    """Block distractions during the best window, on the days it was used; a first habit
    when the week had no focus."""
    w = f.best_window
    if w is None:
        return _FIRST_HABIT
    return Suggestion(
        days=w.days,
        start_local=time(w.start_hour),
        end_local=time(w.end_hour % 24),
        reason=(
            f"Protects your best focus hours, {_hours(w)}, when you focused "
            f"{_count(w.minutes, 'minute')} this week."
        ),
    )


def _fitting(sentences: list[tuple[str, tuple[int, ...]]]) -> Insight:
    text, numbers = "", tuple[int, ...]()
    for sentence, used in sentences:
        longer = f"{text} {sentence}" if text else sentence
        if len(longer) <= MAX_INSIGHT_CHARS:
            text, numbers = longer, numbers + used
    return Insight(text=text, numbers=tuple(dict.fromkeys(numbers)))


def _hours(w: FocusWindow) -> str:
    return f"{w.start_hour}:00-{w.end_hour}:00"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _days(days: tuple[Weekday, ...]) -> str:
    if days == _ALL_DAYS:
        return "every day"
    if days == _WORKDAYS:
        return "weekdays"
    if days == _WEEKEND:
        return "weekends"
    names = [_DAY_NAMES[d] for d in days]
    if len(names) > 3:
        names = [name[:3] for name in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
