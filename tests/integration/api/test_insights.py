"""/v1/insights and /v1/ai/consents as the app sees them: AI results listed, read with ETags,
in /v1/sync, dismissed everywhere, a suggestion accepted in one call; who writes them, the
text to agree to, and answers that count only for the text shown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.bootstrap import Container
from app.settings import Settings
from domain.ai.features import WeekFeatures
from tests.conftest import ApiUser
from tests.support.clock import TestClock
from tests.support.insights import (
    ECHO_TERMS,
    WEEK,
    a_suggestion,
    a_weekly_insight,
    hosted_app,
    later,
    mornings,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
BLOCKLIST = {"name": "Social", "items": [{"kind": "category", "value": "social"}]}


@pytest.fixture(autouse=True)
def _now(clock: TestClock) -> None:
    clock.set(NOW)


@pytest.fixture(scope="module")
def hosted(settings: Settings, database_url: str, clock: TestClock) -> Iterator[TestClient]:
    yield from hosted_app(settings, database_url, clock)


def _blocklist(client: TestClient, user: ApiUser) -> str:
    response = client.post("/v1/blocklists", headers=user.headers, json=BLOCKLIST)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _insights(client: TestClient, user: ApiUser) -> list[dict[str, Any]]:
    response = client.get("/v1/insights", headers=user.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_weekly_insight_and_a_suggestion_are_listed_read_and_synced(
    client: TestClient, container: Container, alice: ApiUser
) -> None:
    insight = a_weekly_insight(client, container, alice)
    suggestion = a_suggestion(client, container, alice)

    assert [i["id"] for i in _insights(client, alice)] == [insight["id"], suggestion["id"]]
    assert insight["kind"] == "weekly_insight"
    assert insight["suggested_schedule"] is None
    assert insight["written_by"] == "local"
    assert insight["text"]
    assert all(isinstance(n, int) for n in insight["numbers"])
    assert suggestion["kind"] == "schedule_suggestion"
    assert suggestion["suggested_schedule"] == {
        "days": ["mon", "tue", "wed", "thu", "fri"], "start_local": "09:00", "end_local": "11:00",
    }  # fmt: skip
    synced = client.get("/v1/sync?include=insight", headers=alice.headers).json()["changes"]
    by_id = {c["id"]: c for c in synced if c["type"] == "insight"}
    assert by_id[insight["id"]]["data"] == insight
    assert by_id[suggestion["id"]]["data"] == suggestion


def test_an_app_that_does_not_ask_for_insights_is_not_sent_them(
    client: TestClient, container: Container, alice: ApiUser
) -> None:
    a_weekly_insight(client, container, alice)
    suggestion = a_suggestion(client, container, alice)
    client.post(
        f"/v1/insights/{suggestion['id']}/accept", headers=alice.headers,
        json={"blocklist_id": _blocklist(client, alice)},
    )  # fmt: skip

    old_app = client.get("/v1/sync", headers=alice.headers).json()
    new_app = client.get("/v1/sync?include=insight", headers=alice.headers).json()

    assert {c["type"] for c in old_app["changes"]} == {"profile", "blocklist", "schedule"}
    assert {c["type"] for c in new_app["changes"]} == {
        "profile",
        "blocklist",
        "schedule",
        "insight",
    }
    # Both end at the same version: the cursor is one number whatever the types.
    assert old_app["next_cursor"] == new_app["next_cursor"]


@pytest.mark.parametrize("include", ["insights", "INSIGHT", "profile", "", "insight\u0000"])
def test_an_unknown_opt_in_type_is_refused(
    client: TestClient, alice: ApiUser, include: str
) -> None:
    refused = client.get("/v1/sync", headers=alice.headers, params={"include": include})

    assert (refused.status_code, refused.json()["code"]) == (422, "validation_failed")
    assert [e["field"] for e in refused.json()["errors"]] == ["include.0"]


def test_an_insight_is_read_with_its_etag(
    client: TestClient, container: Container, alice: ApiUser
) -> None:
    insight = a_weekly_insight(client, container, alice)
    url = f"/v1/insights/{insight['id']}"
    etag = client.get(url, headers=alice.headers).headers["ETag"]

    again = client.get(url, headers=alice.with_headers(If_None_Match=etag))

    assert etag == f'"v{insight["version"]}"'
    assert again.status_code == 304


def test_the_list_is_paged(client: TestClient, container: Container, alice: ApiUser) -> None:
    made = [a_weekly_insight(client, container, alice, week=w)["id"] for w in _mondays(3)]

    first = client.get("/v1/insights?limit=2", headers=alice.headers).json()
    rest = client.get(
        f"/v1/insights?limit=2&cursor={first['next_cursor']}", headers=alice.headers
    ).json()

    assert [i["id"] for i in first["items"] + rest["items"]] == made
    assert rest["next_cursor"] is None


def test_a_dismissed_insight_leaves_every_device_and_is_never_made_again(
    client: TestClient, container: Container, alice: ApiUser
) -> None:
    insight = a_weekly_insight(client, container, alice)
    cursor = client.get("/v1/sync?include=insight", headers=alice.headers).json()["next_cursor"]

    dismissed = client.post(f"/v1/insights/{insight['id']}/dismiss", headers=alice.headers)
    remade = client.portal.call(  # type: ignore[union-attr]
        container.ai.results.weekly_insight, alice.uid, _features_of(insight)
    )

    assert dismissed.status_code == 204
    assert _insights(client, alice) == []
    assert client.get(f"/v1/insights/{insight['id']}", headers=alice.headers).status_code == 404
    changes = client.get(f"/v1/sync?include=insight&since={cursor}", headers=alice.headers).json()[
        "changes"
    ]
    assert [(c["id"], c["deleted"]) for c in changes] == [(insight["id"], True)]
    assert remade is not None
    assert str(remade.id) == insight["id"]
    again = client.post(f"/v1/insights/{insight['id']}/dismiss", headers=alice.headers)
    assert (again.status_code, again.json()["code"]) == (404, "not_found")


def test_dismissing_an_insight_changed_since_it_was_read_is_refused(
    client: TestClient, container: Container, alice: ApiUser
) -> None:
    insight = a_weekly_insight(client, container, alice)

    stale = client.post(
        f"/v1/insights/{insight['id']}/dismiss",
        headers=alice.with_headers(If_Match=f'"v{insight["version"] + 1}"'),
    )

    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    assert [i["id"] for i in _insights(client, alice)] == [insight["id"]]


def test_accepting_a_suggestion_creates_its_schedule_once(
    client: TestClient, container: Container, alice: ApiUser
) -> None:
    suggestion = a_suggestion(client, container, alice)
    blocklist = _blocklist(client, alice)
    client.patch("/v1/me", headers=alice.headers, json={"timezone": "Europe/Berlin"})
    url = f"/v1/insights/{suggestion['id']}/accept"

    created = client.post(url, headers=alice.headers, json={"blocklist_id": blocklist})
    again = client.post(url, headers=alice.headers, json={"blocklist_id": blocklist})

    assert created.status_code == 201, created.text
    schedule = created.json()
    assert created.headers["Location"] == f"/v1/schedules/{schedule['id']}"
    assert {k: schedule[k] for k in ("name", "days", "start_local", "end_local", "timezone")} == {
        "name": "Focus time", "days": ["mon", "tue", "wed", "thu", "fri"],
        "start_local": "09:00", "end_local": "11:00", "timezone": "Europe/Berlin",
    }  # fmt: skip
    assert (schedule["blocklist_id"], schedule["enabled"]) == (blocklist, True)
    assert (again.status_code, again.json()) == (200, schedule)
    read = client.get(f"/v1/insights/{suggestion['id']}", headers=alice.headers).json()
    assert read["accepted_schedule_id"] == schedule["id"]
    assert read["version"] == schedule["version"]  # one write, both records in one sync step
    assert [
        s["id"] for s in client.get("/v1/schedules", headers=alice.headers).json()["items"]
    ] == [schedule["id"]]


def test_a_suggestion_accepted_with_a_name_and_timezone_of_the_apps(
    client: TestClient, container: Container, alice: ApiUser
) -> None:
    suggestion = a_suggestion(client, container, alice)
    body = {
        "blocklist_id": _blocklist(client, alice),
        "name": "Deep work",
        "timezone": "Asia/Tokyo",
    }

    created = client.post(
        f"/v1/insights/{suggestion['id']}/accept", headers=alice.headers, json=body
    )

    assert created.status_code == 201, created.text
    assert (created.json()["name"], created.json()["timezone"]) == ("Deep work", "Asia/Tokyo")


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"blocklist_id": "00000000-0000-7000-8000-000000000000"}, 422, "validation_failed",
         "blocklist_id"),
        ({"blocklist_id": None}, 422, "validation_failed", "blocklist_id"),
        ({}, 422, "validation_failed", "blocklist_id"),
        ({"blocklist_id": "{b}", "timezone": "Mars/Olympus"}, 422, "validation_failed",
         "timezone"),
        ({"blocklist_id": "{b}", "name": ""}, 422, "validation_failed", "name"),
        ({"blocklist_id": "{b}", "name": "a\\u0000b"}, 422, "validation_failed", "name"),
    ],
    ids=["unknown blocklist", "null", "missing", "bad timezone", "empty name", "NUL"],
)  # fmt: skip
def test_a_bad_acceptance_is_refused_and_creates_nothing(
    client: TestClient, container: Container, alice: ApiUser,
    body: dict[str, Any], status: int, code: str, field: str,
) -> None:  # fmt: skip
    suggestion = a_suggestion(client, container, alice)
    blocklist = _blocklist(client, alice)
    raw = {k: v.replace("{b}", blocklist) if isinstance(v, str) else v for k, v in body.items()}
    if raw.get("name") == "a\\u0000b":
        raw["name"] = "a\u0000b"

    refused = client.post(
        f"/v1/insights/{suggestion['id']}/accept", headers=alice.headers, json=raw
    )

    assert refused.status_code == status, refused.text
    problem = refused.json()
    assert problem["code"] == code
    assert field in {e["field"].split(".")[-1] for e in problem["errors"]}
    assert client.get("/v1/schedules", headers=alice.headers).json()["items"] == []
    read = client.get(f"/v1/insights/{suggestion['id']}", headers=alice.headers).json()
    assert read["accepted_schedule_id"] is None


def test_only_a_suggestion_is_accepted(
    client: TestClient, container: Container, alice: ApiUser
) -> None:
    insight = a_weekly_insight(client, container, alice)

    refused = client.post(
        f"/v1/insights/{insight['id']}/accept", headers=alice.headers,
        json={"blocklist_id": _blocklist(client, alice)},
    )  # fmt: skip

    assert (refused.status_code, refused.json()["code"]) == (409, "not_a_suggestion")


def test_a_suggestion_whose_schedule_was_deleted_is_not_accepted_again(
    client: TestClient, container: Container, alice: ApiUser
) -> None:
    suggestion = a_suggestion(client, container, alice)
    url, body = (
        f"/v1/insights/{suggestion['id']}/accept",
        {"blocklist_id": _blocklist(client, alice)},
    )
    schedule = client.post(url, headers=alice.headers, json=body).json()
    client.delete(f"/v1/schedules/{schedule['id']}", headers=alice.headers)

    again = client.post(url, headers=alice.headers, json=body)

    assert (again.status_code, again.json()["code"]) == (409, "suggestion_already_accepted")
    assert client.get("/v1/schedules", headers=alice.headers).json()["items"] == []


def test_on_our_own_servers_no_consent_is_asked(client: TestClient, alice: ApiUser) -> None:
    items = client.get("/v1/ai/consents", headers=alice.headers).json()["items"]

    assert {i["feature"] for i in items} == {"weekly_insight", "schedule_suggestion"}
    for item in items:
        assert item["provider"] == {"id": "local", "display_name": "Focus", "third_party": False}
        assert item["granted"] is True
        assert item["text"]
    answer = client.put(
        "/v1/ai/consents", headers=alice.headers,
        json={"feature": "weekly_insight", "provider": "local", "text_version": 1, "granted": True},
    )  # fmt: skip
    assert (answer.status_code, answer.json()["code"]) == (409, "consent_not_needed")


def _answer(client: TestClient, user: ApiUser, **overrides: Any) -> Any:
    body = {"feature": "weekly_insight", "provider": ECHO_TERMS.provider,
            "text_version": ECHO_TERMS.text_version, "granted": True, **overrides}  # fmt: skip
    return client.put("/v1/ai/consents", headers=user.headers, json=body)


def _weekly_consent(client: TestClient, user: ApiUser) -> dict[str, Any]:
    items = client.get("/v1/ai/consents", headers=user.headers).json()["items"]
    (found,) = [i for i in items if i["feature"] == "weekly_insight"]
    return dict(found)


def test_a_third_party_provider_is_named_and_asked_for(hosted: TestClient, alice: ApiUser) -> None:
    before = _weekly_consent(hosted, alice)
    granted = _answer(hosted, alice)
    after = _weekly_consent(hosted, alice)
    withdrawn = _answer(hosted, alice, granted=False)

    assert before["provider"] == {
        "id": "echo-hosted",
        "display_name": "Echo AI",
        "third_party": True,
    }
    assert (before["text"], before["text_version"]) == (ECHO_TERMS.text, ECHO_TERMS.text_version)
    assert (before["granted"], before["answered_at"]) == (False, None)
    assert granted.status_code == 200
    assert granted.json()["granted"] is True
    assert (after["granted"], after["answered_at"]) == (True, "2026-03-10T12:00:00Z")
    assert withdrawn.status_code == 200
    assert _weekly_consent(hosted, alice)["granted"] is False


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"text_version": 1}, 409, "stale_consent_text"),
        ({"provider": "someone-else"}, 409, "unknown_ai_provider"),
        ({"feature": "mind_reading"}, 422, "validation_failed"),
        ({"text_version": "2"}, 422, "validation_failed"),
        ({"text_version": 2**63}, 422, "validation_failed"),
        ({"granted": "yes"}, 422, "validation_failed"),
        ({"provider": "echo\u0000hosted"}, 422, "validation_failed"),
    ],
    ids=["older text", "other provider", "unknown feature", "string version", "huge",
         "string bool", "NUL"],
)  # fmt: skip
def test_a_grant_counts_only_for_the_text_and_provider_shown(
    hosted: TestClient, alice: ApiUser, overrides: dict[str, Any], status: int, code: str
) -> None:
    refused = _answer(hosted, alice, **overrides)

    assert (refused.status_code, refused.json()["code"]) == (status, code)
    assert _weekly_consent(hosted, alice)["answered_at"] is None


def test_withdrawing_an_older_text_is_recorded(hosted: TestClient, alice: ApiUser) -> None:
    _answer(hosted, alice)

    withdrawn = _answer(hosted, alice, text_version=1, granted=False)

    assert withdrawn.status_code == 200
    assert _weekly_consent(hosted, alice)["granted"] is False


def _mondays(n: int) -> list[date]:
    return [later(WEEK, 7 * i) for i in range(n)]


def _features_of(insight: dict[str, Any]) -> WeekFeatures:
    return mornings(date.fromisoformat(insight["period_start"]))
