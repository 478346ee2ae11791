"""The legacy change message (functions/legacy_change.py): every Firestore value survives the
trip through JSON, and the same change always gives the same bytes."""

from __future__ import annotations

import copy
import json
import math
import pickle
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from functions.legacy_change import (
    SCHEMA_VERSION,
    GeoPoint,
    LegacyChange,
    MessageError,
    Reference,
    Timestamp,
    Vector,
    decode_change,
    decode_value,
    encode_change,
    encode_value,
    parse_path,
    same_document,
)

AT = Timestamp.parse("2025-11-03T10:15:00.123456789Z")
LATER = Timestamp.parse("2025-11-03T10:16:00.000000001Z")

EVERY_VALUE: dict[str, Any] = {
    "null": None,
    "true": True,
    "false": False,
    "int": 7,
    "big_int": 2**63 - 1,
    "negative_int": -(2**63),
    "zero": 0,
    "double": 1.5,
    "integral_double": 1.0,
    "negative_zero": -0.0,
    "tiny_double": 5e-324,
    "string": "Grüße, 東京 🎯",
    "empty_string": "",
    "timestamp": AT,
    "reference": Reference("users/u1/blocklists/dOnprj2fHgqfR9WVfTmo"),
    "bytes": b"\x00\xff\x10binary",
    "geo_point": GeoPoint(48.8566, 2.3522),
    "vector": Vector((0.25, -1.0, 3.0)),
    "array": [1, "two", 3.0, None, AT, Reference("users/u1/schedules/x")],
    "empty_array": [],
    "map": {"nested": {"deeper": [{"at": AT}]}, "n": 1},
    "empty_map": {},
    "map_like_a_marker": {"__timestamp__": "not a timestamp"},
    "other_underscore_map": {"__other__": 1},
}


def test_every_value_type_round_trips() -> None:
    decoded = decode_value(json.loads(json.dumps(encode_value(EVERY_VALUE))))

    assert decoded == EVERY_VALUE
    assert {key: type(value) for key, value in decoded.items()} == {
        key: type(value) for key, value in EVERY_VALUE.items()
    }
    assert decoded["timestamp"].nanosecond == 123456789
    assert type(decoded["array"][2]) is float
    assert math.copysign(1, decoded["negative_zero"]) == -1


def test_values_are_encoded_as_documented() -> None:
    encoded = encode_value(EVERY_VALUE)

    assert encoded["timestamp"] == {"__timestamp__": "2025-11-03T10:15:00.123456789Z"}
    assert encoded["reference"] == {"__ref__": "users/u1/blocklists/dOnprj2fHgqfR9WVfTmo"}
    assert encoded["bytes"] == {"__bytes__": "AP8QYmluYXJ5"}
    assert encoded["geo_point"] == {"__geo__": [48.8566, 2.3522]}
    assert encoded["vector"] == {"__vector__": [0.25, -1.0, 3.0]}
    assert encoded["map_like_a_marker"] == {"__map__": {"__timestamp__": "not a timestamp"}}
    assert encoded["other_underscore_map"] == {"__other__": 1}
    assert (encoded["int"], encoded["integral_double"]) == (7, 1.0)
    assert json.dumps([encoded["int"], encoded["integral_double"]]) == "[7, 1.0]"


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(math.inf, "Infinity"), (-math.inf, "-Infinity"), (math.nan, "NaN")],
)
def test_non_finite_doubles_stay_valid_json(value: float, encoded: str) -> None:
    assert encode_value(value) == {"__double__": encoded}
    decoded = decode_value(encode_value(value))
    assert math.isnan(decoded) if math.isnan(value) else decoded == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-11-03T10:15:00.123456789Z", "2025-11-03T10:15:00.123456789Z"),
        ("2025-11-03T10:15:00Z", "2025-11-03T10:15:00.000000000Z"),
        ("2025-11-03T10:15:00.5Z", "2025-11-03T10:15:00.500000000Z"),
        ("2025-11-03T19:15:00.000000001+09:00", "2025-11-03T10:15:00.000000001Z"),
        ("2025-11-03T00:15:00.999999999-10:30", "2025-11-03T10:45:00.999999999Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000000Z"),
        ("9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999999999Z"),
    ],
)
def test_timestamps_keep_nanoseconds_in_utc(text: str, expected: str) -> None:
    timestamp = Timestamp.parse(text)

    assert timestamp.rfc3339() == expected
    assert timestamp.tzinfo is UTC
    assert timestamp.microsecond == timestamp.nanosecond // 1000


def test_a_timestamp_is_a_datetime_and_keeps_nanoseconds_when_copied() -> None:
    assert isinstance(AT, datetime)
    assert datetime(2025, 11, 3, 10, 15, 0, 123456, tzinfo=UTC) == AT
    assert AT + timedelta(minutes=1) == datetime(2025, 11, 3, 10, 16, 0, 123456, tzinfo=UTC)
    for copied in (copy.copy(AT), copy.deepcopy(AT), pickle.loads(pickle.dumps(AT))):  # noqa: S301
        assert (type(copied), copied.rfc3339()) == (Timestamp, AT.rfc3339())


def test_datetimes_are_encoded_as_utc_instants() -> None:
    tokyo = timezone(timedelta(hours=9))

    assert encode_value(datetime(2025, 11, 3, 19, 15, 0, 250000, tzinfo=tokyo)) == {
        "__timestamp__": "2025-11-03T10:15:00.250000000Z"
    }
    with pytest.raises(ValueError, match="naive"):
        encode_value(datetime(2025, 11, 3, 10, 15))


def test_nanoseconds_of_another_datetime_subclass_are_kept() -> None:
    class WithNanoseconds(datetime):  # shaped like google-api-core's DatetimeWithNanoseconds
        @property
        def nanosecond(self) -> int:
            return self.microsecond * 1000 + 789

    value = WithNanoseconds(2025, 11, 3, 10, 15, 0, 123456, tzinfo=UTC)

    assert encode_value(value) == {"__timestamp__": "2025-11-03T10:15:00.123456789Z"}


def test_unknown_types_go_through_default_or_fail() -> None:
    class ClientReference:
        path = "users/u1/blocklists/b1"

    def default(value: object) -> object:
        return Reference(value.path) if isinstance(value, ClientReference) else value

    assert encode_value({"ref": ClientReference()}, default) == {
        "ref": {"__ref__": "users/u1/blocklists/b1"}
    }
    with pytest.raises(TypeError, match="ClientReference"):
        encode_value(ClientReference())
    with pytest.raises(TypeError, match="key"):
        encode_value({1: "a"})


def change(**overrides: Any) -> LegacyChange:
    fields: dict[str, Any] = {
        "path": "users/u1/schedules/abc",
        "before": {"name": "Work", "_v": 3, "_writer": "backend"},
        "after": {"name": "Deep work", "updatedAt": AT, "_v": 3, "_writer": "backend"},
        "update_time": LATER,
        "create_time": AT,
        "event_id": "e-1",
    }
    return LegacyChange.of(**{**fields, **overrides})


def test_a_change_round_trips_with_its_metadata() -> None:
    original = change(after={**EVERY_VALUE, "_writer": "backend", "_v": 4})

    decoded = decode_change(encode_change(original))

    assert decoded == original
    assert decoded.update_time.nanosecond == 1
    assert (decoded.uid, decoded.collection, decoded.doc_id) == ("u1", "schedules", "abc")
    assert decoded.after is not None
    assert decoded.after["timestamp"].rfc3339() == AT.rfc3339()


def test_the_message_is_compact_sorted_json() -> None:
    data = encode_change(change(before=None, after={"b": 1, "a": AT}, create_time=LATER))

    assert data == (
        b'{"after":{"a":{"__timestamp__":"2025-11-03T10:15:00.123456789Z"},"b":1},'
        b'"before":null,"collection":"schedules","create_time":"2025-11-03T10:16:00.000000001Z",'
        b'"doc_id":"abc","event_id":"e-1","path":"users/u1/schedules/abc","schema_version":1,'
        b'"uid":"u1","update_time":"2025-11-03T10:16:00.000000001Z"}'
    )


def test_output_is_stable_whatever_the_order_of_fields() -> None:
    forwards = {"a": 1, "m": {"x": AT, "y": [1, 2]}, "z": "last"}
    backwards = {"z": "last", "m": {"y": [1, 2], "x": AT}, "a": 1}

    assert encode_change(change(after=forwards)) == encode_change(change(after=backwards))


def test_a_create_has_no_before_and_a_delete_no_after() -> None:
    created = decode_change(encode_change(change(before=None)))
    deleted = decode_change(encode_change(change(after=None)))

    assert (created.before, created.kind) == (None, "create")
    assert (deleted.after, deleted.kind) == (None, "delete")
    assert change().kind == "update"
    assert json.loads(encode_change(change(after=None)))["after"] is None
    with pytest.raises(ValueError, match="before or after"):
        encode_change(change(before=None, after=None))


def test_attributes_name_the_document_and_the_writer() -> None:
    assert change().attributes == {
        "uid": "u1",
        "collection": "schedules",
        "doc_id": "abc",
        "event_id": "e-1",
        "writer": "backend",
    }
    assert change().ordering_key == "u1"
    assert change(after={"name": "x"}).writer == "legacy"
    assert change(after={"name": "x", "_writer": 1}).writer == "legacy"
    assert change(after=None).writer == "legacy"  # a delete carries no _writer


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("users/u1", ("u1", "users", "u1")),
        ("users/u1/devices/ABCD-1234", ("u1", "devices", "ABCD-1234")),
        ("users/u1/usage/2025-11-03_inst_1", ("u1", "usage", "2025-11-03_inst_1")),
    ],
)
def test_paths_give_uid_collection_and_doc_id(path: str, expected: tuple[str, ...]) -> None:
    assert parse_path(path) == expected


@pytest.mark.parametrize(
    "path", ["users", "users/u1/devices", "other/u1", "users/u1/a/b/c/d", "users//devices/x"]
)
def test_other_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="not a path"):
        parse_path(path)


def test_same_document_compares_exactly() -> None:
    a = {"n": 1, "at": AT, "ref": Reference("users/u1/blocklists/b")}

    assert same_document(a, dict(reversed(a.items())))
    assert not same_document(a, {**a, "n": 1.0})
    assert not same_document(a, {**a, "at": Timestamp.parse("2025-11-03T10:15:00.123456788Z")})
    assert not same_document(a, None)
    assert same_document(None, None)


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[]",
        json.dumps({"schema_version": 2}).encode(),
        encode_change(change()).replace(b'"uid":"u1"', b'"uid":"u2"'),
        encode_change(change()).replace(b'"event_id":"e-1"', b'"event_id":""'),
        encode_change(change()).replace(b'"update_time":"2025', b'"update_time":"x2025'),
        encode_change(change(after={"a": AT})).replace(b"2025-11-03T10:15", b"yesterday"),
        encode_change(change(after={"a": b"x"})).replace(b'"eA=="', b'"*"'),
    ],
)
def test_what_is_not_a_change_message_is_a_message_error(data: bytes) -> None:
    with pytest.raises(MessageError):
        decode_change(data)


def test_schema_version_is_in_the_message() -> None:
    assert json.loads(encode_change(change()))["schema_version"] == SCHEMA_VERSION
