"""The prompt a hosted model gets, rendered from `WeekFeatures` alone, the same every time.

Only the features' numbers and our own weekday names go in: nothing else is at hand here.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.ai.features import DAYS, FocusWindow, ScheduleWindow, WeekFeatures
from domain.ai.validation import MAX_INSIGHT_CHARS, MAX_REASON_CHARS, MAX_WINDOW_MINUTES


@dataclass(frozen=True, slots=True)
class Prompt:
    system: str
    user: str


_RULES = (
    "You help a person of a focus app understand their week. Use only the numbers given "
    "below; never compute, round or invent another number. Answer with one JSON object "
    "matching the schema and nothing else."
)
INSIGHT_SCHEMA = (
    f'{{"text": string (1-{MAX_INSIGHT_CHARS} characters, 2-3 plain sentences), '
    '"numbers": [integer, ...] (every number the text uses)}'
)
SUGGESTION_SCHEMA = (
    '{"days": ["mon"|"tue"|"wed"|"thu"|"fri"|"sat"|"sun", ...] (at least one), '
    f'"start_local": "HH:MM", "end_local": "HH:MM" (a window of at most '
    f'{MAX_WINDOW_MINUTES // 60} hours), "reason": string (1-{MAX_REASON_CHARS} characters)}}'
)


def insight_prompt(features: WeekFeatures) -> Prompt:
    task = "Write a short insight about when this person focuses best this week."
    return Prompt(f"{_RULES}\nSchema: {INSIGHT_SCHEMA}", f"{task}\n{render_features(features)}")


def suggestion_prompt(features: WeekFeatures) -> Prompt:
    task = (
        "Propose one blocking schedule that protects this person's focus, "
        "and say why in one sentence."
    )
    return Prompt(f"{_RULES}\nSchema: {SUGGESTION_SCHEMA}", f"{task}\n{render_features(features)}")


def render_features(f: WeekFeatures) -> str:
    lines = [
        f"Week starting: {f.week_start.isoformat()}",
        f"Focused minutes in total: {f.total_minutes}",
        f"Sessions started: {f.sessions_started}, completed: {f.sessions_completed}, "
        f"abandoned: {f.sessions_abandoned}, completion rate: {f.completion_rate_percent}%",
        f"Best focus window: {_window(f.best_window)}",
        f"Busiest day: {f.busiest_day.value if f.busiest_day else 'none'}",
        "Focused minutes by day: "
        + ", ".join(f"{d.value} {m}" for d, m in zip(DAYS, f.minutes_by_weekday, strict=True)),
        "Focused minutes by day and local hour (hours without focus left out):",
    ]
    for day, row in zip(DAYS, f.minutes_by_day_hour, strict=True):
        hours = ", ".join(f"{h:02d}h {m}" for h, m in enumerate(row) if m)
        lines.append(f"  {day.value}: {hours or 'none'}")
    lines.append("Existing blocking schedules:")
    lines += [f"  {_schedule(w)}" for w in f.schedule_windows] or ["  none"]
    return "\n".join(lines)


def _window(w: FocusWindow | None) -> str:
    if w is None:
        return "none"
    days = " ".join(d.value for d in w.days)
    return f"{w.start_hour:02d}:00-{w.end_hour:02d}:00 on {days}, {w.minutes} minutes"


def _schedule(w: ScheduleWindow) -> str:
    days = " ".join(d.value for d in w.days)
    strictness = "hard" if w.hard else "normal"
    return (
        f"{w.start_hour:02d}:{w.start_minute:02d}-{w.end_hour:02d}:{w.end_minute:02d} "
        f"on {days} ({strictness})"
    )
