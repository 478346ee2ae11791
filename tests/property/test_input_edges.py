"""Hypothesis at the edges of text, numbers, dates and tokens: each answer is a 4xx
problem+json naming what was wrong, or a success; never a server error.

The strategies aim at what generic generation rarely reaches: control characters and lone
surrogates inside otherwise valid text, the first and last days of the calendar with every
UTC offset, integers beyond 64 bits, booleans and digit strings for integers, digits that are
not ASCII, and cursors or entity-tags that decode to anything.
"""

from __future__ import annotations

import base64
import json
import string
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from app.settings import Settings
from tests.conftest import ApiUser
from tests.property.budget import ONE_USER_EACH
from tests.support.configured_apps import configured_apps

FORBIDDEN = [chr(c) for c in (*range(0x20), 0x7F)] + ["\ud800", "\udfff"]
"""C0 controls, DEL and (lone) surrogates."""


@pytest.fixture(scope="module")
def app(settings: Settings, database_url: str) -> Iterator[TestClient]:
    """The app without rate limits: a limit would answer 429 before anything is checked."""
    with configured_apps(settings, database_url, rate_limits=False) as make:
        yield make()


def send(
    app: TestClient, user: ApiUser, method: str, url: str, body: Any = None, **kw: Any
) -> httpx.Response:
    headers = dict(user.headers)
    if body is not None:
        headers["Content-Type"] = "application/json"
        kw["content"] = json.dumps(body)  # ASCII escapes: lone surrogates travel as \ud800
    return app.request(method, url, headers={**headers, **kw.pop("headers", {})}, **kw)


def answered(response: httpx.Response) -> dict[str, Any] | None:
    """A success, or a 4xx problem+json; the problem when there is one."""
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code < 400:
        return None
    assert response.headers["content-type"] == "application/problem+json", response.text
    problem: dict[str, Any] = response.json()
    return problem


def refused(response: httpx.Response, field: str) -> None:
    problem = answered(response)
    assert problem is not None, f"accepted: {response.text[:300]}"
    assert field in [e["field"] for e in problem.get("errors", [])], problem


@st.composite
def hostile_text(draw: st.DrawFn) -> str:
    """Plausible text with one forbidden character inside it (spaces around text, tabs and
    newlines included, are stripped before any rule applies)."""
    text = draw(st.text(string.ascii_letters + string.digits + ".-éü日", min_size=2, max_size=20))
    at = draw(st.integers(1, len(text) - 1))
    return text[:at] + draw(st.sampled_from(FORBIDDEN)) + text[at:]


# ---- text: one rule for every field ----

Body = Callable[[str], tuple[str, str, dict[str, Any]]]
TEXT_FIELDS: dict[str, Body] = {
    "name": lambda t: ("POST", "/v1/blocklists", {"name": t}),
    "items.0.value": lambda t: (
        "POST",
        "/v1/blocklists",
        {"name": "x", "items": [{"kind": "web_domain", "value": t}]},
    ),
    "display_name": lambda t: ("PATCH", "/v1/me", {"display_name": t}),
    "timezone": lambda t: ("PATCH", "/v1/me", {"timezone": t}),
    "locale": lambda t: ("PATCH", "/v1/me", {"locale": t}),
    "app_version": lambda t: (
        "PUT",
        "/v1/devices/phone-0001",
        {"platform": "ios", "app_version": t},
    ),
    "os_version": lambda t: (
        "PUT",
        "/v1/devices/phone-0001",
        {"platform": "ios", "app_version": "4.2.0", "os_version": t},
    ),
    "push_token": lambda t: (
        "PUT",
        "/v1/devices/phone-0001",
        {"platform": "android", "app_version": "4.2.0", "push_token": t},
    ),
    "top_apps.0.token": lambda t: (
        "PUT",
        "/v1/usage/2026-01-01",
        {
            "installation_id": "phone-0001",
            "total_minutes": 5,
            "pickups": 1,
            "top_apps": [{"token": t, "minutes": 1}],
        },
    ),
}


@ONE_USER_EACH
@given(field=st.sampled_from(sorted(TEXT_FIELDS)), text=hostile_text())
def test_text_with_a_control_character_or_lone_surrogate_is_refused(
    app: TestClient, alice: ApiUser, device: str, field: str, text: str
) -> None:
    method, url, body = TEXT_FIELDS[field](text)

    refused(send(app, alice, method, url, body), field)


@ONE_USER_EACH
@given(installation_id=hostile_text() | st.from_regex(r"[A-Za-z0-9._:-]{8,20}\n", fullmatch=True))
def test_a_device_id_in_the_path_with_a_control_character_is_refused(
    app: TestClient, alice: ApiUser, installation_id: str
) -> None:
    url = "/v1/devices/" + quote(installation_id.encode("utf-8", "surrogatepass"), safe="")
    body = {"platform": "ios", "app_version": "4.2.0"}

    response = send(app, alice, "PUT", url, body)

    assert response.status_code in (404, 422), response.text  # 404: a `/` ended the id
    assert send(app, alice, "GET", "/v1/devices").json()["items"] == []


# ---- the calendar: every day, every offset ----

DAY_RANGES = {
    "stats": ("/v1/stats", "from", "to"),
    "focus sessions": ("/v1/focus-sessions", "from", "to"),
    "usage": ("/v1/usage", "from", "to"),
}
EDGE_DAYS = st.sampled_from([date.min, date.min + timedelta(days=1), date.max]) | st.dates()


@ONE_USER_EACH
@given(which=st.sampled_from(sorted(DAY_RANGES)), first=EDGE_DAYS, last=EDGE_DAYS)
def test_any_calendar_days_are_answered_without_a_server_error(
    app: TestClient, alice: ApiUser, which: str, first: date, last: date
) -> None:
    url, start, end = DAY_RANGES[which]

    answered(send(app, alice, "GET", url, params={start: str(first), end: str(last)}))


@ONE_USER_EACH
@given(day=EDGE_DAYS)
def test_a_usage_report_of_any_day_is_answered_without_a_server_error(
    app: TestClient, alice: ApiUser, day: date
) -> None:
    body = {"installation_id": "phone-0001", "total_minutes": 5, "pickups": 1}

    answered(send(app, alice, "PUT", f"/v1/usage/{day.isoformat()}", body))


OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
EDGE_INSTANTS = st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone).isoformat(),
    st.sampled_from([datetime.min, datetime.max]) | st.datetimes(),
    OFFSETS,
)


@pytest.fixture
def device(app: TestClient, alice: ApiUser) -> str:
    body = {"platform": "ios", "app_version": "4.2.0"}
    response = send(app, alice, "PUT", "/v1/devices/phone-0001", body)
    assert response.status_code == 201, response.text
    return "phone-0001"


@pytest.fixture
def blocklist_id(app: TestClient, alice: ApiUser) -> str:
    response = send(app, alice, "POST", "/v1/blocklists", {"name": "Social"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


INSTANTS: dict[str, Callable[[str, str], tuple[str, str, dict[str, Any]]]] = {
    "paused_until": lambda i, b: (
        "POST",
        "/v1/schedules",
        {
            "name": "Nights",
            "days": ["mon"],
            "start_local": "22:00",
            "end_local": "06:00",
            "timezone": "Europe/Berlin",
            "blocklist_id": b,
            "paused_until": i,
        },
    ),
    "started_at": lambda i, b: (
        "POST",
        "/v1/focus-sessions",
        {"planned_duration_minutes": 25, "started_at": i},
    ),
    "ended_at": lambda i, b: (
        "POST",
        "/v1/focus-sessions/0192f0c5-8f9e-7000-8000-000000000000/end",
        {"outcome": "abandoned", "ended_at": i},
    ),
}


@ONE_USER_EACH
@given(field=st.sampled_from(sorted(INSTANTS)), instant=EDGE_INSTANTS)
def test_any_instant_with_any_offset_is_answered_without_a_server_error(
    app: TestClient, alice: ApiUser, blocklist_id: str, field: str, instant: str
) -> None:
    method, url, body = INSTANTS[field](instant, blocklist_id)

    problem = answered(send(app, alice, method, url, body))

    if problem is not None and problem["code"] == "validation_failed":
        assert field in [e["field"] for e in problem["errors"]], problem


# ---- numbers: JSON integers only, of any size ----

INTEGER_FIELDS: dict[str, Callable[[Any], tuple[str, str, dict[str, Any]]]] = {
    "planned_duration_minutes": lambda v: (
        "POST",
        "/v1/focus-sessions",
        {"planned_duration_minutes": v},
    ),
    "daily_goal_minutes": lambda v: ("PATCH", "/v1/me", {"daily_goal_minutes": v}),
    "pickups": lambda v: (
        "PUT",
        "/v1/usage/2026-01-01",
        {"installation_id": "phone-0001", "total_minutes": 5, "pickups": v},
    ),
}
NOT_INTEGERS = (
    st.booleans()
    | st.integers(-(10**30), 10**30).map(str)
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer())
    | st.sampled_from(["²", "\u0661\u0662", "25 ", "0x19", "1e3"])
)


@ONE_USER_EACH
@given(field=st.sampled_from(sorted(INTEGER_FIELDS)), value=NOT_INTEGERS)
def test_anything_but_a_json_integer_is_refused_where_an_integer_belongs(
    app: TestClient, alice: ApiUser, device: str, field: str, value: Any
) -> None:
    method, url, body = INTEGER_FIELDS[field](value)

    refused(send(app, alice, method, url, body), field)


@ONE_USER_EACH
@given(field=st.sampled_from(sorted(INTEGER_FIELDS)), value=st.integers() | st.just(2**64))
def test_integers_of_any_size_are_answered_without_a_server_error(
    app: TestClient, alice: ApiUser, device: str, field: str, value: int
) -> None:
    method, url, body = INTEGER_FIELDS[field](value)

    problem = answered(send(app, alice, method, url, body))

    if problem is not None and problem["code"] == "validation_failed":
        assert field in [e["field"] for e in problem["errors"]], problem


# ---- cursors and entity-tags: whatever they decode to ----


def encoded(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


POSITION_PARTS = (
    st.text()
    | st.integers().map(str)
    | st.sampled_from(["²", "\u0661\u0662", "9" * 19, "-1", "2026-01-01", str(date.max)])
)
CURSORS = (
    st.lists(POSITION_PARTS | st.integers() | st.none(), max_size=3).map(encoded)
    | st.text()
    | st.sampled_from(["", "=", "W10", "WyIiXQ"])
)
PAGED = {
    "blocklists": ("/v1/blocklists", "cursor", {}),
    "schedules": ("/v1/schedules", "cursor", {}),
    "focus sessions": ("/v1/focus-sessions", "cursor", {}),
    "usage": ("/v1/usage", "cursor", {"from": "2026-01-01", "to": "2026-01-31"}),
    "sync": ("/v1/sync", "since", {}),
}


@ONE_USER_EACH
@given(which=st.sampled_from(sorted(PAGED)), cursor=CURSORS)
@example(which="sync", cursor=encoded(["9" * 19]))  # beyond a bigint
@example(which="sync", cursor=encoded(["\u0661\u0662"]))  # digits, but not ASCII ones
@example(which="sync", cursor=encoded(["²"]))
@example(which="usage", cursor=encoded(["2026-01-01", "phone\x000001"]))
@example(which="blocklists", cursor="W²")
def test_any_cursor_is_answered_without_a_server_error(
    app: TestClient, alice: ApiUser, which: str, cursor: str
) -> None:
    url, name, params = PAGED[which]

    problem = answered(send(app, alice, "GET", url, params={**params, name: cursor}))

    if problem is not None:
        assert problem["code"] == "validation_failed", problem
        assert [e["field"] for e in problem["errors"]] == [name], problem


LATIN_1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
TAGS = st.text(LATIN_1, max_size=30) | st.lists(
    st.sampled_from(['"v1"', 'W/"v1"', '"v²"', '"v\u0661"', '"v99999999999999999999"', "*", '""']),
    min_size=1,
    max_size=3,
).map(", ".join)


def octets(value: str) -> bytes:
    """Header values travel as octets: latin-1 where it can (`²` is 0xB2), else UTF-8."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def raw(app: TestClient, user: ApiUser, method: str, headers: dict[str, bytes]) -> int:
    """The status of a request whose header octets reach the app as sent, as from a server.

    The TestClient re-encodes header values as UTF-8, so `0xB2` would arrive as `Â²`.
    """
    sent: list[dict[str, Any]] = []
    body = json.dumps({"display_name": "Alice"}).encode() if method == "PATCH" else b""
    fields = {**{k: v.encode() for k, v in user.headers.items()}, **headers}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/v1/me",
        "raw_path": b"/v1/me",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json")]
        + [(name.lower().encode(), value) for name, value in fields.items()],
        "client": ("testclient", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def call() -> None:
        await app.app(scope, receive, send)

    app.portal.call(call)  # the app's own event loop, where its connections live
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))


@ONE_USER_EACH
@given(name=st.sampled_from(["If-Match", "If-None-Match"]), value=TAGS, write=st.booleans())
@example(name="If-Match", value='"v²"', write=True)  # str.isdigit() says yes, int() says no
@example(name="If-None-Match", value='"v²"', write=False)
@example(name="If-Match", value='"v99999999999999999999"', write=True)
def test_any_entity_tag_is_answered_without_a_server_error(
    app: TestClient, alice: ApiUser, name: str, value: str, write: bool
) -> None:
    status = raw(app, alice, "PATCH" if write else "GET", {name: octets(value)})

    assert status in (200, 304, 412), status
