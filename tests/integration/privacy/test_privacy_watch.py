"""The hourly watch: the statutory clock as metrics (open, at risk at day 20, overdue, time to
the next due date) and export archives gone after their 30 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

from prometheus_client import REGISTRY
from starlette.testclient import TestClient

from app.bootstrap import Container
from domain.privacy.model import Channel, RequestKind, add_months
from privacy.exports import archive_key
from tests.conftest import ApiUser
from tests.integration.privacy.test_requests_from_the_app import call
from tests.support.clock import TestClock

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def gauge(name: str, kind: str) -> float:
    value = REGISTRY.get_sample_value(name, {"kind": kind})
    assert value is not None, name
    return value


def test_a_request_is_at_risk_from_day_20_and_overdue_after_its_month(
    client: TestClient, container: Container, clock: TestClock
) -> None:
    """Other tests' requests share the database: each step compares two observations one
    day apart, between which only this request changes."""
    clock.set(T0)
    uid = f"u-watch-{uuid4().hex}"
    opened = call(
        client,
        lambda: container.privacy.open(
            RequestKind.EXPORT, uid, by="staff-ana", channel=Channel.EMAIL, received_at=T0
        ),
    ).request
    watch = container.privacy_watch

    def observed(day: int) -> tuple[float, float]:
        clock.set(T0 + timedelta(days=day))
        call(client, watch.observe)
        return (
            gauge("focus_privacy_requests_at_risk", "export"),
            gauge("focus_privacy_requests_overdue", "export"),
        )

    # Unverified for 19 days: the clock is paused, due 19 days later than a month after T0.
    assert observed(18) == observed(19)
    clock.set(T0 + timedelta(days=19))
    call(client, lambda: container.privacy.verify(opened.id, "email_reply", by="staff-ana"))
    at_day_19, _ = observed(19 + 19)
    at_day_20, overdue_before = observed(19 + 20)
    assert at_day_20 == at_day_19 + 1
    due = add_months(T0, 1) + timedelta(days=19)
    _, overdue_after = observed((due - T0).days + 1)
    assert overdue_after == overdue_before + 1
    assert gauge("focus_privacy_requests_due_seconds", "export") < 0
    call(client, lambda: container.privacy.cancel(opened.id, "test over", by="staff-ana"))


def test_an_archive_is_deleted_30_days_after_its_export(
    client: TestClient, container: Container, clock: TestClock, alice: ApiUser, tmp_path: Path
) -> None:
    clock.set(T0)
    asked = client.post("/v1/privacy/exports", headers=alice.headers).json()
    call(client, container.privacy_runner.run_all, UUID(asked["id"]))
    key = archive_key(UUID(asked["id"]))
    assert call(client, container.files.exists, key)

    clock.set(T0 + timedelta(days=29))
    assert call(client, container.privacy_watch.drop_expired_archives) == 0
    assert call(client, container.files.exists, key)

    clock.set(T0 + timedelta(days=31))
    assert call(client, container.privacy_watch.drop_expired_archives) >= 1
    assert not call(client, container.files.exists, key)
    done = client.get(f"/v1/privacy/requests/{asked['id']}", headers=alice.headers).json()
    assert done["state"] == "completed"
    assert done["download"] is None  # no longer kept
