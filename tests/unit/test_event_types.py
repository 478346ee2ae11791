"""Event types are declared once (`domain.events.EventType`), and docs/events.md lists them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.events import DomainEvent, EventType, Subject, UnknownEventType
from domain.push.policy import push_kind

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
HEADER = "| type | subject_id | version | silent push | when |"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def documented() -> dict[str, tuple[str, str, str]]:
    """docs/events.md's table of types: type → (subject_id, version, silent push)."""
    lines = DOC.read_text().splitlines()
    start = lines.index(HEADER) + 2  # below the header and its |---| line
    rows: dict[str, tuple[str, str, str]] = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        name, subject, version, push, _when = (c.strip().strip("`") for c in line[1:-1].split("|"))
        assert name not in rows, f"{name} is listed twice in docs/events.md"
        rows[name] = (subject, version, push)
    return rows


def declared(event_type: EventType) -> tuple[str, str, str]:
    kind = push_kind(event_type)
    return event_type.subject.value, str(event_type.schema_version), kind or "—"


def test_docs_list_every_declared_type_as_declared() -> None:
    expected = {t.value: declared(t) for t in EventType}
    rows = "\n".join(f"| `{name}` | {' | '.join(facts)} | … |" for name, facts in expected.items())
    assert documented() == expected, f"docs/events.md's types should read:\n{HEADER}\n{rows}"


def test_types_are_an_entity_and_a_verb_dotted_in_lower_case() -> None:
    for event_type in EventType:
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", event_type.value), event_type


def test_version_1_payloads_are_empty_as_the_docs_say() -> None:
    assert [t for t in EventType if t.schema_version == 1 and t.payload] == []


def test_a_type_from_the_wire_is_parsed_to_its_declaration() -> None:
    assert EventType.parse("focus_session.completed") is EventType.FOCUS_SESSION_COMPLETED
    assert EventType.parse("usage.reported").subject is Subject.USAGE_REPORT


@pytest.mark.parametrize("name", ["blocklist.craeted", "Blocklist.Created", "", "blocklist"])
def test_an_undeclared_type_is_refused_by_name(name: str) -> None:
    with pytest.raises(UnknownEventType, match=re.escape(repr(name))):
        EventType.parse(name)


def test_an_event_is_made_of_a_declared_type_never_of_a_string() -> None:
    with pytest.raises(TypeError, match="EventType"):
        DomainEvent("blocklist.created", "u1", "b1", 1, NOW)  # type: ignore[arg-type]


def test_an_event_takes_its_types_schema_version_unless_it_was_written_with_another() -> None:
    assert DomainEvent(EventType.SYNC_REQUESTED, "u1", "u1", 1, NOW).schema_version == 1
    read_back = DomainEvent(EventType.SYNC_REQUESTED, "u1", "u1", 1, NOW, schema_version=3)
    assert read_back.schema_version == 3
