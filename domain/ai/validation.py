"""The rules a provider's output must keep before it is stored or shown.

Schema and length first; then every number in the text must be one the features hold, so a
model cannot invent a figure ("you focused 14 hours") the person never had.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime, time
from enum import Enum, StrEnum

from domain.ai.features import WeekFeatures
from domain.ai.ports import Insight, Suggestion

MAX_INSIGHT_CHARS = 280
MAX_REASON_CHARS = 160
MAX_WINDOW_MINUTES = 12 * 60
MINUTES_PER_DAY = 24 * 60

# A run of digits with its separators: "9", "09:00", "9:30", "1,200", "2.5" ("25%" gives 25).
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")


class Violation(StrEnum):
    TEXT_EMPTY = "text_empty"
    TEXT_TOO_LONG = "text_too_long"
    CONTROL_CHARACTERS = "control_characters"
    NUMBER_NOT_IN_FEATURES = "number_not_in_features"
    DECLARED_NUMBER_NOT_IN_FEATURES = "declared_number_not_in_features"
    NO_DAYS = "no_days"
    DUPLICATE_DAYS = "duplicate_days"
    EMPTY_WINDOW = "empty_window"
    WINDOW_TOO_LONG = "window_too_long"
    WINDOW_NOT_WHOLE_MINUTES = "window_not_whole_minutes"


def validate_insight(insight: Insight, features: WeekFeatures) -> list[Violation]:
    """What is wrong with `insight`; empty when it may be stored."""
    allowed = feature_numbers(features)
    violations = _text_violations(insight.text, MAX_INSIGHT_CHARS, allowed)
    if any(n not in allowed for n in insight.numbers):
        violations.append(Violation.DECLARED_NUMBER_NOT_IN_FEATURES)
    return violations


def validate_suggestion(suggestion: Suggestion, features: WeekFeatures) -> list[Violation]:
    """What is wrong with `suggestion`; empty when it may be stored and offered."""
    violations: list[Violation] = []
    if not suggestion.days:
        violations.append(Violation.NO_DAYS)
    if len(set(suggestion.days)) != len(suggestion.days):
        violations.append(Violation.DUPLICATE_DAYS)
    violations += _window_violations(suggestion.start_local, suggestion.end_local)
    # The reason may name the window it proposes ("blocks 20:00-22:00").
    own = {t.hour for t in (suggestion.start_local, suggestion.end_local)}
    own |= {t.minute for t in (suggestion.start_local, suggestion.end_local)}
    allowed = feature_numbers(features) | own
    return violations + _text_violations(suggestion.reason, MAX_REASON_CHARS, allowed)


def feature_numbers(features: WeekFeatures) -> frozenset[int]:
    """Every number the text may use: each integer in the features, a date's parts."""
    return frozenset(_numbers_in(features))


def numbers_in_text(text: str) -> list[int | None]:
    """The numbers written in `text`; None for one that is not a whole number ("2.5").

    A clock time gives its hour, and its minutes unless they are zero ("9:30" → 9, 30;
    "09:00" → 9); "1,200" is one thousand two hundred; "9,11" is nine and eleven.
    """
    found: list[int | None] = []
    for token in _NUMBER.findall(text):
        found += _parse(token)
    return found


def _parse(token: str) -> list[int | None]:
    if ":" in token:
        hour, *rest = (int(part) for part in token.split(":"))
        return [hour, *(minute for minute in rest if minute)]
    if _THOUSANDS.fullmatch(token):
        return [int(token.replace(",", ""))]
    numbers: list[int | None] = []
    for part in token.split(","):
        whole, _, fraction = part.partition(".")
        numbers.append(int(whole) if not fraction.strip("0") and "." not in fraction else None)
    return numbers


def _numbers_in(value: object) -> Iterator[int]:
    match value:
        case bool() | Enum() | None:
            return
        case int():
            yield value
        case datetime() | time():
            raise TypeError("features hold no instants or clock times")
        case date():
            yield from (value.year, value.month, value.day)
        case tuple():
            for item in value:
                yield from _numbers_in(item)
        case _ if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                yield from _numbers_in(getattr(value, f.name))
        case _:
            raise TypeError(f"features hold no {type(value).__name__}")


def _text_violations(text: str, max_chars: int, allowed: frozenset[int]) -> list[Violation]:
    violations: list[Violation] = []
    if not text.strip():
        violations.append(Violation.TEXT_EMPTY)
    if len(text) > max_chars:
        violations.append(Violation.TEXT_TOO_LONG)
    if any(unicodedata.category(c).startswith("C") for c in text):
        violations.append(Violation.CONTROL_CHARACTERS)
    if any(n is None or n not in allowed for n in numbers_in_text(text)):
        violations.append(Violation.NUMBER_NOT_IN_FEATURES)
    return violations


def _window_violations(start: time, end: time) -> list[Violation]:
    if any(t.second or t.microsecond or t.tzinfo for t in (start, end)):
        return [Violation.WINDOW_NOT_WHOLE_MINUTES]
    length = (_minute_of_day(end) - _minute_of_day(start)) % MINUTES_PER_DAY
    if length == 0:
        return [Violation.EMPTY_WINDOW]
    if length > MAX_WINDOW_MINUTES:
        return [Violation.WINDOW_TOO_LONG]
    return []


def _minute_of_day(t: time) -> int:
    return t.hour * 60 + t.minute
