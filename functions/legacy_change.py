"""One change of a legacy Firestore document, as a Pub/Sub message of the topic `legacy-changes`.

The Cloud Function (`functions/main.py`) encodes it; the backend's legacy sync consumer decodes
it (`from functions.legacy_change import decode_change`). This module is the one definition of
the format for both sides, hence the standard library only: no Firebase, no Google client.

The message's data is compact JSON with sorted keys (the same change gives the same bytes):

    {"after": {...} | null, "before": {...} | null, "collection": "schedules",
     "create_time": "2025-11-03T10:15:00.123456789Z" | null, "doc_id": "abc",
     "event_id": "<CloudEvent id>", "path": "users/u1/schedules/abc", "schema_version": 1,
     "uid": "u1", "update_time": "2025-11-03T10:15:00.123456789Z"}

`before` / `after` are the document's fields (null: the document did not exist, so a create has
`before: null` and a delete `after: null`), each Firestore value encoded losslessly:

- null, boolean, string: the same (decoded as `None`, `bool`, `str`);
- integer (int64): a JSON integer (`int`);
- double: a JSON number with a fraction or an exponent (`1.0`, `float`); NaN and the
  infinities as `{"__double__": "NaN" | "Infinity" | "-Infinity"}`;
- timestamp: `{"__timestamp__": "2025-11-03T10:15:00.123456789Z"}`, UTC, always 9 fractional
  digits (`Timestamp`: a `datetime` that also keeps its `nanosecond`);
- reference: `{"__ref__": "users/u1/blocklists/x"}`, the database-relative path (`Reference`);
- bytes: `{"__bytes__": "<standard base64>"}` (`bytes`);
- geo point: `{"__geo__": [latitude, longitude]}` (`GeoPoint`);
- vector: `{"__vector__": [numbers]}` (`Vector`);
- array: a JSON array (`list`);
- map: a JSON object (`dict`); a map whose only key is one of the markers above is wrapped as
  `{"__map__": {...}}`, so that no document can pass for an encoded value.

`create_time` is the document's Firestore `create_time` (of `after`, or of `before` for a
delete); `update_time` is the time of the change: the new `update_time` of `after`, or the
event's time for a delete. The message's attributes (`LegacyChange.attributes`) are `uid`,
`collection`, `doc_id`, `event_id` and `writer` (the `_writer` field of `after`, else `legacy`);
its ordering key is the uid.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, SupportsIndex

SCHEMA_VERSION: Final = 1
USERS: Final = "users"
LEGACY_WRITER: Final = "legacy"

TIMESTAMP: Final = "__timestamp__"
REFERENCE: Final = "__ref__"
BYTES: Final = "__bytes__"
GEO_POINT: Final = "__geo__"
VECTOR: Final = "__vector__"
DOUBLE: Final = "__double__"
MAP: Final = "__map__"
MARKERS: Final = frozenset({TIMESTAMP, REFERENCE, BYTES, GEO_POINT, VECTOR, DOUBLE, MAP})

_NON_FINITE: Final = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_RFC3339: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})"
)

Default = Callable[[object], object]
"""Turns a value the codec does not know (a client library's type) into one it knows."""


class MessageError(ValueError):
    """Bytes that are not a legacy change message of this schema."""


class Timestamp(datetime):
    """A UTC instant with nanoseconds: a `datetime` (microseconds) that also keeps the full
    `nanosecond` of the second, as Firestore's `DatetimeWithNanoseconds` does. Comparisons and
    arithmetic are `datetime`'s (microseconds); `rfc3339()` and `nanosecond` are exact."""

    __slots__ = ("_nanosecond",)
    _nanosecond: int

    def __new__(cls, *args: Any, nanosecond: int | None = None, **kwargs: Any) -> Timestamp:
        if nanosecond is not None:
            if not 0 <= nanosecond < 1_000_000_000:
                raise ValueError(f"nanosecond out of range: {nanosecond}")
            kwargs["microsecond"] = nanosecond // 1000
        instance = super().__new__(cls, *args, **kwargs)
        instance._nanosecond = instance.microsecond * 1000 if nanosecond is None else nanosecond
        return instance

    @property
    def nanosecond(self) -> int:
        return self._nanosecond

    @classmethod
    def from_datetime(cls, value: datetime) -> Timestamp:
        """An aware `datetime` in UTC; its `nanosecond` is kept when it has one (Firestore's
        `DatetimeWithNanoseconds`, or a `Timestamp`) that agrees with its microseconds."""
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a naive datetime is not an instant: {value!r}")
        nanos = getattr(value, "nanosecond", None)
        if not isinstance(nanos, int) or nanos // 1000 != value.microsecond:
            nanos = value.microsecond * 1000
        utc = value.astimezone(UTC)
        return cls(
            utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second,
            tzinfo=UTC, nanosecond=nanos,
        )  # fmt: skip

    @classmethod
    def parse(cls, text: str) -> Timestamp:
        """RFC 3339 with up to 9 fractional digits and `Z` or an offset."""
        match = _RFC3339.fullmatch(text)
        if match is None:
            raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
        year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
        fraction, offset = match.group(7) or "", match.group(8)
        nanos = int(fraction.ljust(9, "0")) if fraction else 0
        local = datetime(year, month, day, hour, minute, second)
        if offset not in ("Z", "z"):
            sign = 1 if offset[0] == "+" else -1
            local -= sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
        return cls(
            local.year, local.month, local.day, local.hour, local.minute, local.second,
            tzinfo=UTC, nanosecond=nanos,
        )  # fmt: skip

    def rfc3339(self) -> str:
        """`YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` in UTC: always 9 fractional digits."""
        utc = self.astimezone(UTC) if self.utcoffset() else self
        return (
            f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
            f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{self._nanosecond:09d}Z"
        )

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        # datetime's own reduction would rebuild it without the nanoseconds (copy, pickle).
        return (Timestamp.parse, (self.rfc3339(),))

    def __repr__(self) -> str:
        return f"Timestamp.parse({self.rfc3339()!r})"


@dataclass(frozen=True, slots=True)
class Reference:
    """A Firestore DocumentReference by its database-relative path."""

    path: str

    @property
    def id(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class GeoPoint:
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Vector:
    values: tuple[float, ...]


def encode_value(value: object, default: Default | None = None) -> Any:
    """A Firestore value as JSON-ready data (the table in this module's docstring). `default`
    turns a client library's type (DocumentReference, GeoPoint, …) into one of ours first."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {DOUBLE: "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, datetime):
        return {TIMESTAMP: Timestamp.from_datetime(value).rfc3339()}
    if isinstance(value, Reference):
        return {REFERENCE: value.path}
    if isinstance(value, bytes | bytearray | memoryview):
        return {BYTES: base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, GeoPoint):
        return {GEO_POINT: [float(value.latitude), float(value.longitude)]}
    if isinstance(value, Vector):
        return {VECTOR: [encode_value(float(item)) for item in value.values]}
    if isinstance(value, dict):
        encoded = {_key(key): encode_value(item, default) for key, item in value.items()}
        return {MAP: encoded} if len(encoded) == 1 and next(iter(encoded)) in MARKERS else encoded
    if isinstance(value, list | tuple):
        return [encode_value(item, default) for item in value]
    if default is not None:
        converted = default(value)
        if converted is not value:
            return encode_value(converted)
    raise TypeError(f"not a Firestore value: {type(value).__qualname__}")


def decode_value(data: Any) -> Any:
    """The inverse of `encode_value`, of our own types (`Timestamp`, `Reference`, …)."""
    if data is None or isinstance(data, bool | str | int | float):
        return data
    if isinstance(data, list):
        return [decode_value(item) for item in data]
    if not isinstance(data, dict):
        raise MessageError(f"not an encoded Firestore value: {type(data).__qualname__}")
    if len(data) == 1:
        ((key, item),) = data.items()
        if key in MARKERS:
            return _decode_marked(key, item)
    return {key: decode_value(item) for key, item in data.items()}


def _decode_marked(marker: str, item: Any) -> Any:
    try:
        if marker == MAP:
            return {key: decode_value(value) for key, value in item.items()}
        if marker == TIMESTAMP:
            return Timestamp.parse(item)
        if marker == REFERENCE:
            if not isinstance(item, str):
                raise TypeError(item)
            return Reference(item)
        if marker == BYTES:
            return base64.b64decode(item, validate=True)
        if marker == GEO_POINT:
            latitude, longitude = item
            return GeoPoint(float(latitude), float(longitude))
        if marker == VECTOR:
            return Vector(tuple(float(decode_value(value)) for value in item))
        return _NON_FINITE[item]  # DOUBLE
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise MessageError(f"invalid {marker} value: {item!r}") from error


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"a Firestore map key is a string, not {type(key).__qualname__}")
    return key


def encode_document(document: Mapping[str, Any] | None, default: Default | None = None) -> Any:
    """A document's fields as JSON-ready data; `None` (no document) stays `None`."""
    if document is None:
        return None
    return {_key(key): encode_value(value, default) for key, value in document.items()}


def same_document(
    a: Mapping[str, Any] | None, b: Mapping[str, Any] | None, default: Default | None = None
) -> bool:
    """Whether two documents hold exactly the same values (timestamps to the nanosecond,
    `1` ≠ `1.0`, references by path): what a no-op write leaves."""
    return _canonical(encode_document(a, default)) == _canonical(encode_document(b, default))


def parse_path(path: str) -> tuple[str, str, str]:
    """`(uid, collection, doc_id)` of `users/{uid}` (`collection` = `users`, `doc_id` = uid) or
    of `users/{uid}/{collection}/{doc_id}`."""
    segments = path.strip("/").split("/")
    if segments[0] != USERS or len(segments) not in (2, 4) or not all(segments):
        raise ValueError(f"not a path of users/{{uid}}[/{{collection}}/{{doc_id}}]: {path!r}")
    if len(segments) == 2:
        return segments[1], USERS, segments[1]
    return segments[1], segments[2], segments[3]


ChangeKind = Literal["create", "update", "delete"]


@dataclass(frozen=True, slots=True)
class LegacyChange:
    """One write of a document under `users/`, as Firestore saw it."""

    path: str
    uid: str
    collection: str
    doc_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    update_time: Timestamp
    create_time: Timestamp | None
    event_id: str

    @classmethod
    def of(
        cls,
        *,
        path: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        update_time: datetime,
        event_id: str,
        create_time: datetime | None = None,
    ) -> LegacyChange:
        uid, collection, doc_id = parse_path(path)
        return cls(
            path=path.strip("/"),
            uid=uid,
            collection=collection,
            doc_id=doc_id,
            before=None if before is None else dict(before),
            after=None if after is None else dict(after),
            update_time=Timestamp.from_datetime(update_time),
            create_time=None if create_time is None else Timestamp.from_datetime(create_time),
            event_id=event_id,
        )

    @property
    def kind(self) -> ChangeKind:
        if self.before is None:
            return "create"
        return "delete" if self.after is None else "update"

    @property
    def writer(self) -> str:
        """`after._writer` (`backend` for the backend's own mirrors), else `legacy`."""
        writer = (self.after or {}).get("_writer")
        return writer if isinstance(writer, str) and writer else LEGACY_WRITER

    @property
    def ordering_key(self) -> str:
        return self.uid

    @property
    def attributes(self) -> dict[str, str]:
        return {
            "uid": self.uid,
            "collection": self.collection,
            "doc_id": self.doc_id,
            "event_id": self.event_id,
            "writer": self.writer,
        }


def encode_change(change: LegacyChange, default: Default | None = None) -> bytes:
    """The message's data: compact JSON, keys sorted, UTF-8."""
    if change.before is None and change.after is None:
        raise ValueError("a change has a document before or after it")
    message = {
        "schema_version": SCHEMA_VERSION,
        "path": change.path,
        "uid": change.uid,
        "collection": change.collection,
        "doc_id": change.doc_id,
        "before": encode_document(change.before, default),
        "after": encode_document(change.after, default),
        "update_time": change.update_time.rfc3339(),
        "create_time": None if change.create_time is None else change.create_time.rfc3339(),
        "event_id": change.event_id,
    }
    return _canonical(message)


def decode_change(data: bytes) -> LegacyChange:
    """The change of a message's data; `MessageError` when it is not one (a poison message)."""
    try:
        message = json.loads(data)
        if not isinstance(message, dict):
            raise MessageError("a legacy change message is a JSON object")
        if message.get("schema_version") != SCHEMA_VERSION:
            raise MessageError(f"unknown schema_version: {message.get('schema_version')!r}")
        path = message["path"]
        uid, collection, doc_id = parse_path(path)
        if (message["uid"], message["collection"], message["doc_id"]) != (uid, collection, doc_id):
            raise MessageError(f"uid, collection and doc_id do not match the path {path!r}")
        before, after = (_decoded_document(message[side]) for side in ("before", "after"))
        if before is None and after is None:
            raise MessageError("a change has a document before or after it")
        event_id = message["event_id"]
        if not isinstance(event_id, str) or not event_id:
            raise MessageError("event_id is a non-empty string")
        create_time = message.get("create_time")
        return LegacyChange(
            path=path,
            uid=uid,
            collection=collection,
            doc_id=doc_id,
            before=before,
            after=after,
            update_time=Timestamp.parse(message["update_time"]),
            create_time=None if create_time is None else Timestamp.parse(create_time),
            event_id=event_id,
        )
    except MessageError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:  # JSON errors included
        raise MessageError(f"not a legacy change message: {error}") from error


def _decoded_document(data: Any) -> dict[str, Any] | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise MessageError("a document is a JSON object or null")
    return {key: decode_value(value) for key, value in data.items()}


def _canonical(data: Any) -> bytes:
    text = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


__all__ = [
    "SCHEMA_VERSION",
    "GeoPoint",
    "LegacyChange",
    "MessageError",
    "Reference",
    "Timestamp",
    "Vector",
    "decode_change",
    "decode_value",
    "encode_change",
    "encode_document",
    "encode_value",
    "parse_path",
    "same_document",
]
