"""What a user sees of their own data requests through the app: an export they download, and an
account deletion that stops the account at once and leaves nothing of it anywhere.

The runner is driven here step by step (in production the task queue drives it)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import psycopg
import pytest
from psycopg import sql
from starlette.testclient import TestClient

from app.bootstrap import Container
from datastore.postgres.personal_data import RULES
from datastore.postgres.privacy_store import PostgresPrivacyStore
from domain.privacy.audit import first_break
from domain.user_data import DataStore, Erasure, in_store
from tests.conftest import ApiUser

SECRET_NAME = "Zyxwv Qutsr personal name"
PUSH_TOKEN = "0123456789abcdef" * 4  # an APNs token: 64 hex digits


def call(client: TestClient, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    portal = client.portal
    assert portal is not None, "inside `with TestClient(...)`"
    return portal.call(fn, *args)


def seed(client: TestClient, user: ApiUser) -> None:
    """Records in every kind of the user's data the API writes."""
    assert client.patch(
        "/v1/me", headers=user.headers, json={"display_name": SECRET_NAME}
    ).is_success
    device = {
        "platform": "ios",
        "app_version": "4.2.0",
        "push_token": PUSH_TOKEN,
        "apns_environment": "production",
    }
    assert client.put("/v1/devices/install-0001", headers=user.headers, json=device).is_success
    blocklist = {"name": "Social", "items": [{"kind": "web_domain", "value": "x.com"}]}
    created = client.post(
        "/v1/blocklists", headers=user.with_headers(Idempotency_Key="k1"), json=blocklist
    )
    assert created.status_code == 201
    session = client.post(
        "/v1/focus-sessions", headers=user.headers, json={"planned_duration_minutes": 25}
    )
    assert session.is_success


def run_all(client: TestClient, container: Container, request_id: str) -> None:
    call(client, container.privacy_runner.run_all, UUID(request_id))


def rows_of(database_url: str, uid: str) -> dict[str, int]:
    """The user's rows in every Postgres table of the registry (by its key column)."""
    found = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        for entry in in_store(DataStore.POSTGRES):
            if entry.location in RULES:
                continue  # found by other keys; the runner's scan counts them
            count = sql.SQL("SELECT count(*) FROM {} WHERE user_id = %s").format(
                sql.Identifier(entry.location)
            )
            row = conn.execute(count, (uid,)).fetchone()
            assert row is not None
            found[entry.location] = row[0]
        user = conn.execute("SELECT count(*) FROM users WHERE uid = %s", (uid,)).fetchone()
        assert user is not None
        found["users"] = user[0]
    return found


def test_an_export_is_one_zip_of_every_record_with_a_manifest(
    client: TestClient, container: Container, alice: ApiUser, database_url: str
) -> None:
    seed(client, alice)

    asked = client.post("/v1/privacy/exports", headers=alice.headers)
    again = client.post("/v1/privacy/exports", headers=alice.headers)

    assert asked.status_code == 202, asked.text
    body = asked.json()
    assert body["kind"] == "export"
    assert body["state"] == "verified"
    assert body["download"] is None
    assert asked.headers["Location"] == f"/v1/privacy/requests/{body['id']}"
    assert again.json()["id"] == body["id"]  # the open request, joined

    run_all(client, container, body["id"])
    done = client.get(f"/v1/privacy/requests/{body['id']}", headers=alice.headers)

    assert done.status_code == 200
    assert done.json()["state"] == "completed"
    link = urlsplit(done.json()["download"]["url"])
    archive = client.get(f"{link.path}?{link.query}")
    assert archive.status_code == 200
    assert archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("manifest.json"))
        for name, digest in manifest["files"].items():
            assert hashlib.sha256(z.read(name)).hexdigest() == digest, name
        users = json.loads(z.read("users.json"))
        devices = json.loads(z.read("devices.json"))
        readme = z.read("README.txt").decode()
        derived = json.loads(z.read("derived_stats.json"))
        sessions_csv = z.read("focus_sessions.csv").decode()
    assert {"README.txt", "manifest.json", "users.json", "users.csv", "blocklists.json"} <= names
    assert set(manifest["files"]) == names - {"manifest.json"}
    assert users[0]["display_name"] == SECRET_NAME
    assert devices[0]["push_token"] == "…" + PUSH_TOKEN[-4:]  # masked
    assert derived["daily_goal_minutes"] == users[0]["daily_goal_minutes"]
    assert derived["current_streak_days"] == 0  # the one session is still running
    assert "supervisory authority" in readme
    assert body["id"] in readme
    assert len(sessions_csv.strip().splitlines()) == 2  # header and the one session
    # The phone learns it is ready by a silent push (`kind: privacy`), through the outbox.
    with psycopg.connect(database_url, autocommit=True) as conn:
        announced = conn.execute(
            "SELECT type, subject_id FROM outbox_events"
            " WHERE user_id = %s AND type LIKE 'privacy%%'",
            (alice.uid,),
        ).fetchall()
    assert announced == [("privacy.export_ready", body["id"])]
    # Asked again the same day: the archive just made, not another one (Art. 12(5)).
    repeated = client.post("/v1/privacy/exports", headers=alice.headers)
    assert repeated.status_code == 202
    assert repeated.json()["id"] == body["id"]
    assert repeated.json()["download"] is not None


def test_a_tampered_or_foreign_download_link_is_refused(
    client: TestClient, container: Container, alice: ApiUser, bob: ApiUser
) -> None:
    asked = client.post("/v1/privacy/exports", headers=alice.headers).json()
    run_all(client, container, asked["id"])
    done = client.get(f"/v1/privacy/requests/{asked['id']}", headers=alice.headers).json()
    link = urlsplit(done["download"]["url"])
    tampered = link.query.replace("signature=", "signature=0")

    assert client.get(f"{link.path}?{tampered}").status_code == 403
    assert client.get(link.path).status_code == 403
    # Someone else's request is not found, and says nothing of whose it is.
    foreign = client.get(f"/v1/privacy/requests/{asked['id']}", headers=bob.headers)
    assert foreign.status_code == 404


def test_deleting_the_account_stops_it_at_once_and_leaves_nothing(
    client: TestClient, container: Container, alice: ApiUser, bob: ApiUser, database_url: str
) -> None:
    seed(client, alice)
    seed(client, bob)
    exported = client.post("/v1/privacy/exports", headers=alice.headers).json()
    run_all(client, container, exported["id"])

    deleted = client.delete("/v1/me", headers=alice.headers)

    assert deleted.status_code == 202, deleted.text
    erasure = deleted.json()
    assert erasure["kind"] == "erasure"
    after = client.get("/v1/me", headers=alice.headers)
    assert after.status_code == 401
    assert after.json()["code"] == "account_erased"
    blocked = client.post(
        "/v1/blocklists",
        headers=alice.with_headers(Idempotency_Key="late"),
        json={"name": "Late", "items": [{"kind": "category", "value": "games"}]},
    )
    assert blocked.status_code == 401

    run_all(client, container, erasure["id"])

    assert set(rows_of(database_url, alice.uid).values()) == {0}
    assert rows_of(database_url, bob.uid)["users"] == 1
    store = PostgresPrivacyStore(container.engine)

    async def look() -> tuple[Any, Any, Any, Any]:
        async with store as s:
            request = await s.get(UUID(erasure["id"]))
            steps = await s.steps(UUID(erasure["id"]))
            old_export = await s.get(UUID(exported["id"]))
            trail = await s.audit_trail()
        return request, steps, old_export, trail

    request, steps, old_export, trail = call(client, look)
    assert request.state == "completed"
    assert request.subject_uid is None
    assert old_export.subject_uid is None  # scrubbed
    scan = steps[-1]
    assert scan.name == "verification_scan"
    assert scan.state == "done"
    assert scan.detail
    assert set(scan.detail.values()) == {0}
    assert {s.name for s in steps} >= {
        e.name for e in in_store(DataStore.POSTGRES) if e.erasure is not Erasure.KEPT
    }
    assert first_break(trail) is None
    kept = {
        (e.categories, e.exemption is not None)
        for e, _, _ in trail
        if e.action == "kept" and e.request_id == request.id
    }
    assert kept == {(("erased_users",), True), (("privacy_audit",), True)}
    written = json.dumps([(e.actor, e.action, e.detail, e.categories) for e, _, _ in trail])
    assert alice.uid not in written
    assert SECRET_NAME not in written
    # The export's archive went with the account.
    assert not call(client, container.files.exists, f"privacy/exports/{exported['id']}.zip")


@pytest.mark.parametrize("path", ["/v1/privacy/exports"])
def test_a_stale_sign_in_is_asked_to_sign_in_again(
    client: TestClient, path: str, dev_issuer: Any, make_user: Callable[[], ApiUser]
) -> None:
    import datetime as dt

    user = make_user()
    stale = dev_issuer.issue(user.uid, signed_in_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    headers = {**user.headers, "Authorization": f"Bearer {stale}"}

    for answer in (client.post(path, headers=headers), client.delete("/v1/me", headers=headers)):
        assert answer.status_code == 401
        assert answer.json()["code"] == "recent_sign_in_required"


def test_an_export_resumed_after_a_change_reads_again_what_was_read_before(
    client: TestClient, container: Container, alice: ApiUser
) -> None:
    seed(client, alice)
    asked = client.post("/v1/privacy/exports", headers=alice.headers).json()
    request_id = UUID(asked["id"])
    steps = call(client, container.privacy.steps, request_id)
    for _ in steps[:-1]:  # every part read; the worker stops before the archive
        assert call(client, container.privacy_runner.run_next, request_id)
    late = {"name": "Late", "items": [{"kind": "category", "value": "games"}]}
    assert client.post("/v1/blocklists", headers=alice.headers, json=late).status_code == 201

    call(client, container.privacy_runner.run_all, request_id)

    done = client.get(f"/v1/privacy/requests/{asked['id']}", headers=alice.headers).json()
    link = urlsplit(done["download"]["url"])
    archive = client.get(f"{link.path}?{link.query}")
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        names = sorted(b["name"] for b in json.loads(z.read("blocklists.json")))
    assert names == ["Late", "Social"]


def test_a_deadline_extended_by_staff_reaches_the_app_that_asked(
    client: TestClient, container: Container, alice: ApiUser, database_url: str
) -> None:
    asked = client.post("/v1/privacy/exports", headers=alice.headers).json()
    reason = "many requests this month"

    call(
        client,
        lambda: container.privacy.extend(UUID(asked["id"]), 1, reason, by="staff-ana"),
    )

    after = client.get(f"/v1/privacy/requests/{asked['id']}", headers=alice.headers).json()
    assert after["due_at"] > asked["due_at"]
    assert after["delay_reasons"] == [reason]
    with psycopg.connect(database_url, autocommit=True) as conn:
        told = conn.execute(
            "SELECT type FROM outbox_events WHERE user_id = %s AND subject_id = %s",
            (alice.uid, asked["id"]),
        ).fetchall()
    assert told == [("privacy.request_extended",)]
