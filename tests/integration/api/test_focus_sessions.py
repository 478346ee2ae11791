from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient

from tests.conftest import ApiUser
from tests.integration.api.focus_sessions_client import all_sessions, end, get, iso, start
from tests.support.clock import TestClock

NOON = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def test_starting_a_session_answers_201_with_its_location_and_etag(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON)

    response = start(client, alice, mode="hard")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["mode"] == "hard"
    assert body["planned_duration_minutes"] == 25
    assert body["started_at"] == "2026-06-15T12:00:00Z"
    assert (body["ended_at"], body["outcome"]) == (None, None)
    assert (body["timezone"], body["local_date"]) == ("UTC", "2026-06-15")
    assert response.headers["Location"] == f"/v1/focus-sessions/{body['id']}"
    assert response.headers["ETag"] == f'"v{body["version"]}"'
    assert client.get(response.headers["Location"], headers=alice.headers).json() == body


def test_the_local_day_is_taken_in_the_users_timezone_at_the_start(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    client.patch("/v1/me", headers=alice.headers, json={"timezone": "Asia/Tokyo"})
    clock.set(datetime(2026, 6, 15, 16, 0, tzinfo=UTC))  # 01:00 on the 16th in Tokyo

    body = start(client, alice).json()

    assert (body["timezone"], body["local_date"]) == ("Asia/Tokyo", "2026-06-16")


def test_a_second_start_while_one_is_running_is_refused(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON)
    first = start(client, alice).json()

    response = start(client, alice, planned_duration_minutes=50)

    assert response.status_code == 409
    assert response.json()["code"] == "focus_session_already_running"
    assert [s["id"] for s in all_sessions(client, alice)] == [first["id"]]


def test_an_offline_start_sent_again_with_its_id_returns_the_same_session(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON)
    sent = {"id": str(uuid.uuid4()), "started_at": iso(NOON - timedelta(days=2)), "mode": "hard"}
    first = start(client, alice, **sent)

    again = start(client, alice, **sent)

    assert first.status_code == 201, first.text
    assert first.json()["id"] == sent["id"]
    assert first.json()["local_date"] == "2026-06-13"
    assert again.status_code == 200
    assert again.json() == first.json()
    assert "Location" not in again.headers
    assert len(all_sessions(client, alice)) == 1


def test_a_session_id_sent_again_with_other_values_is_a_conflict(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON)
    session_id = str(uuid.uuid4())
    first = start(client, alice, id=session_id).json()

    response = start(client, alice, id=session_id, planned_duration_minutes=45)

    assert response.status_code == 409
    assert response.json()["code"] == "focus_session_id_conflict"
    assert get(client, alice, session_id).json() == first


def test_another_users_session_id_answers_as_an_unused_id_and_leaves_theirs_alone(
    client: TestClient,
    alice: ApiUser,
    bob: ApiUser,
    make_user: Callable[[], ApiUser],
    clock: TestClock,
) -> None:
    clock.set(NOON)
    carol = make_user()
    bobs = start(client, bob).json()
    unused = str(uuid.uuid4())

    taken_elsewhere = start(client, alice, id=bobs["id"])
    never_used = start(client, carol, id=unused)

    # Nothing tells Alice that the id exists: the same answer as for an id nobody has.
    assert (taken_elsewhere.status_code, never_used.status_code) == (201, 201)
    assert taken_elsewhere.json().keys() == never_used.json().keys()
    assert [s["id"] for s in all_sessions(client, alice)] == [bobs["id"]]
    assert get(client, bob, bobs["id"]).json() == bobs


def test_a_session_may_name_one_of_the_users_live_blocklists(
    client: TestClient, alice: ApiUser, bob: ApiUser
) -> None:
    def blocklist(user: ApiUser) -> str:
        created = client.post("/v1/blocklists", headers=user.headers, json={"name": "Social"})
        assert created.status_code == 201, created.text
        blocklist_id: str = created.json()["id"]
        return blocklist_id

    bobs, deleted, own = blocklist(bob), blocklist(alice), blocklist(alice)
    assert client.delete(f"/v1/blocklists/{deleted}", headers=alice.headers).status_code == 204

    for foreign in (bobs, deleted, str(uuid.uuid4())):
        response = start(client, alice, blocklist_id=foreign)
        assert response.status_code == 422
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
            ("blocklist_id", "unknown_blocklist")
        ]
    assert all_sessions(client, alice) == []
    response = start(client, alice, blocklist_id=own)
    assert response.status_code == 201
    assert response.json()["blocklist_id"] == own


def test_a_start_retried_with_its_idempotency_key_replays_the_first_answer(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON)
    headers = alice.with_headers(Idempotency_Key="start-1")
    body = {"planned_duration_minutes": 30}

    first = client.post("/v1/focus-sessions", headers=headers, json=body)
    again = client.post("/v1/focus-sessions", headers=headers, json=body)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert len(all_sessions(client, alice)) == 1


def test_concurrent_starts_leave_one_running_session(client: TestClient, alice: ApiUser) -> None:
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: start(client, alice), range(8)))

    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {
        "focus_session_already_running"
    }
    assert len(all_sessions(client, alice)) == 1


def test_concurrent_retries_of_an_offline_start_create_it_once(
    client: TestClient, alice: ApiUser
) -> None:
    session_id = str(uuid.uuid4())

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: start(client, alice, id=session_id), range(8)))

    assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
    assert len({a.text for a in answers}) == 1
    assert [s["id"] for s in all_sessions(client, alice)] == [session_id]


def test_a_start_at_an_instant_the_server_cannot_trust_is_refused(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON)

    ahead = start(client, alice, started_at=iso(NOON + timedelta(minutes=6)))
    too_old = start(client, alice, started_at=iso(NOON - timedelta(days=8)))
    naive = start(client, alice, started_at="2026-06-15T12:00:00")

    for response, code in ((ahead, "in_the_future"), (too_old, "too_old")):
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"field": "started_at", "code": code, "message": response.json()["detail"]}
        ]
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "started_at"
    assert all_sessions(client, alice) == []


def test_a_planned_duration_over_twelve_hours_is_refused(
    client: TestClient, alice: ApiUser
) -> None:
    response = start(client, alice, planned_duration_minutes=721)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "planned_duration_minutes"
    assert all_sessions(client, alice) == []


def test_completing_a_session_ends_it_with_a_new_version(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON)
    session = start(client, alice).json()
    clock.set(NOON + timedelta(minutes=25, seconds=3))

    response = end(client, alice, session["id"], "completed", NOON + timedelta(minutes=25))

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["outcome"], body["ended_at"]) == ("completed", "2026-06-15T12:25:00Z")
    assert body["version"] > session["version"]
    assert response.headers["ETag"] == f'"v{body["version"]}"'
    assert get(client, alice, session["id"]).json() == body


def test_the_same_end_sent_again_returns_the_ended_session(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON)
    session = start(client, alice).json()
    first = end(client, alice, session["id"], "abandoned", NOON + timedelta(minutes=3))

    again = end(client, alice, session["id"], "abandoned", NOON + timedelta(minutes=3))

    assert again.status_code == 200
    assert again.json() == first.json()


def test_ending_an_ended_session_differently_is_a_conflict(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON + timedelta(minutes=30))
    session = start(client, alice, started_at=iso(NOON)).json()
    first = end(client, alice, session["id"], "abandoned", NOON + timedelta(minutes=3)).json()

    response = end(client, alice, session["id"], "completed", NOON + timedelta(minutes=25))

    assert response.status_code == 409
    assert response.json()["code"] == "focus_session_already_ended"
    assert get(client, alice, session["id"]).json() == first


def test_ending_a_hard_mode_session_early_is_refused(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON)
    session = start(client, alice, mode="hard").json()
    clock.set(NOON + timedelta(minutes=10))

    response = end(client, alice, session["id"], "abandoned", NOON + timedelta(minutes=10))

    assert response.status_code == 409
    assert response.json()["code"] == "hard_mode_locked"
    assert get(client, alice, session["id"]).json() == session


def test_completing_well_before_the_planned_end_is_refused(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON)
    session = start(client, alice).json()
    clock.set(NOON + timedelta(minutes=10))

    response = end(client, alice, session["id"], "completed", NOON + timedelta(minutes=10))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "outcome"
    assert get(client, alice, session["id"]).json() == session


def test_an_end_before_the_start_or_a_day_after_it_is_refused(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON)
    session = start(client, alice).json()
    clock.set(NOON + timedelta(hours=30))

    before = end(client, alice, session["id"], "abandoned", NOON - timedelta(seconds=1))
    too_long = end(client, alice, session["id"], "completed", NOON + timedelta(hours=25))

    for response, code in ((before, "before_start"), (too_long, "too_long")):
        assert response.status_code == 422
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("ended_at", code)]
    assert get(client, alice, session["id"]).json() == session


def test_an_end_retried_with_its_idempotency_key_replays_the_first_answer(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON)
    session = start(client, alice).json()
    ended_at = NOON + timedelta(minutes=1)

    first = end(client, alice, session["id"], "abandoned", ended_at, Idempotency_Key="end-1")
    again = end(client, alice, session["id"], "abandoned", ended_at, Idempotency_Key="end-1")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_an_end_naming_a_stale_etag_is_refused(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON)
    session = start(client, alice).json()
    stale = f'"v{session["version"] - 1}"'

    response = end(client, alice, session["id"], "abandoned", NOON, If_Match=stale)

    assert response.status_code == 412
    assert get(client, alice, session["id"]).json() == session


def test_another_users_session_is_not_found_and_untouched(
    client: TestClient, alice: ApiUser, bob: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON)
    bobs = start(client, bob, planned_duration_minutes=1).json()

    read = get(client, alice, bobs["id"])
    ended = end(client, alice, bobs["id"], "abandoned", NOON)

    assert (read.status_code, read.json()["code"]) == (404, "not_found")
    assert (ended.status_code, ended.json()["code"]) == (404, "not_found")
    assert get(client, bob, bobs["id"]).json() == bobs
    assert all_sessions(client, alice) == []


def test_a_session_not_changed_since_the_clients_copy_answers_304(
    client: TestClient, alice: ApiUser
) -> None:
    created = start(client, alice)

    response = client.get(
        created.headers["Location"],
        headers=alice.with_headers(If_None_Match=created.headers["ETag"]),
    )

    assert response.status_code == 304
    assert response.content == b""
