"""Nothing personal can reach a prompt: the features hold no text by type, and none leaks."""

from __future__ import annotations

import dataclasses
import enum
import types
from datetime import UTC, date, datetime, time
from typing import Any, Union, get_args, get_origin, get_type_hints
from uuid import UUID

from ai.local import insight_for, suggestion_for
from domain.ai.features import WeekFeatures, week_features
from domain.ai.prompt import insight_prompt, suggestion_prompt
from domain.focus_sessions.model import Outcome
from domain.schedules.model import Weekday
from tests.unit.ai.builders import schedule, session_at_utc

_ALLOWED_LEAVES = (int, bool, date)
_FORBIDDEN = (str, bytes, dict, UUID, datetime, time)


def _leaf_problems(hint: object, where: str) -> list[str]:
    """Every place under `hint` whose type could carry free text or an identifier."""
    if hint is Any:
        return [f"{where}: Any"]
    if hint is type(None):
        return []
    origin = get_origin(hint)
    if origin is tuple or origin in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not Ellipsis]
        return [p for a in args for p in _leaf_problems(a, where)]
    if origin is not None:
        return [f"{where}: {hint}"]
    assert isinstance(hint, type), f"{where}: {hint!r}"
    if issubclass(hint, enum.Enum):
        # An enum of ours is a closed set of values we wrote, not free text.
        ours = hint.__module__.startswith("domain.")
        return [] if ours else [f"{where}: foreign enum {hint}"]
    if dataclasses.is_dataclass(hint):
        hints = get_type_hints(hint)
        return [
            p
            for f in dataclasses.fields(hint)
            for p in _leaf_problems(hints[f.name], f"{where}.{f.name}")
        ]
    if issubclass(hint, _FORBIDDEN) and not issubclass(hint, bool | int):
        return [f"{where}: {hint.__name__}"]
    if hint in _ALLOWED_LEAVES:
        return []
    return [f"{where}: {hint.__name__} is not an aggregate type"]


def test_no_field_of_the_features_can_hold_text_or_an_identifier() -> None:
    assert _leaf_problems(WeekFeatures, "WeekFeatures") == []


def test_the_type_walk_would_catch_a_text_field() -> None:
    @dataclasses.dataclass
    class Leaky:
        counts: tuple[int, ...]
        note: str | None
        extra: dict[str, int]
        anything: Any
        owner: UUID

    assert len(_leaf_problems(Leaky, "Leaky")) == 4


SECRETS = {
    "uid": "uid-Qx7SecretPerson",
    "schedule": "Mum's birthday Qx7",
    "zone": "America/Argentina/Ushuaia",
}
IDS = [UUID("0badc0de-1234-4abc-8def-0123456789ab"), UUID("feedface-5678-4abc-8def-0123456789ab")]


def test_a_prompt_carries_none_of_the_strings_the_inputs_had() -> None:
    start = datetime(2026, 3, 2, 12, tzinfo=UTC)
    sessions = [
        dataclasses.replace(
            session_at_utc(start, 45, SECRETS["zone"], Outcome.COMPLETED, uid=SECRETS["uid"]),
            id=IDS[0],
            blocklist_id=IDS[1],
        )
    ]
    schedules = [
        schedule(
            [Weekday.MON],
            time(20),
            time(22),
            name=SECRETS["schedule"],
            uid=SECRETS["uid"],
            zone=SECRETS["zone"],
            blocklist_id=IDS[1],
        )
    ]
    features = week_features(sessions, schedules, date(2026, 3, 2))

    rendered = [
        text
        for p in (insight_prompt(features), suggestion_prompt(features))
        for text in (p.system, p.user)
    ]
    rendered += [insight_for(features).text, suggestion_for(features).reason]

    assert features.total_minutes == 45
    needles = [*SECRETS.values(), "Ushuaia", "Qx7", *(str(i) for i in IDS), *(i.hex for i in IDS)]
    for text in rendered:
        assert [n for n in needles if n.lower() in text.lower()] == []


def test_the_prompt_is_the_same_for_the_same_features_and_gives_their_numbers() -> None:
    sessions = [session_at_utc(datetime(2026, 3, 3, 9, tzinfo=UTC), 95, "UTC")]
    features = week_features(sessions, [], date(2026, 3, 2))

    first, second = insight_prompt(features), insight_prompt(features)

    assert first == second
    assert "Focused minutes in total: 95" in first.user
    assert "tue: 09h 60, 10h 35" in first.user
    assert "only the numbers given" in first.system
    assert '"text": string (1-280 characters' in first.system
