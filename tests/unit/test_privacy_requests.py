"""A data-subject request's rules: who may move it on, and its statutory clock (due one calendar
month after receipt, paused while identity is unverified, extended by two months at most)."""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import Conflict, Forbidden, ValidationFailed
from domain.privacy import model
from domain.privacy.model import (
    SUBJECT,
    Channel,
    Extension,
    PrivacyRequest,
    RequestKind,
    RequestState,
    Verification,
    add_months,
)
from domain.privacy.steps import ARCHIVE, DERIVED, ERASED_LIST, SCAN, entries_for, plan
from domain.user_data import DataStore, Erasure

RECEIVED = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)


def request(kind: RequestKind = RequestKind.ERASURE, by: str = "staff-ana") -> PrivacyRequest:
    return PrivacyRequest(
        id=uuid4(),
        kind=kind,
        subject_uid="u-1",
        subject_hash="h",
        channel=Channel.EMAIL if by != SUBJECT else Channel.APP,
        state=RequestState.RECEIVED,
        received_at=RECEIVED,
        created_by=by,
    )


def verified(r: PrivacyRequest, at: datetime = RECEIVED) -> PrivacyRequest:
    return model.verify(r, Verification("email_reply", "staff-ana", at))


@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)), st.integers(0, 36)
)
def test_a_month_later_is_the_same_day_or_the_months_last(start: datetime, months: int) -> None:
    later = add_months(start, months)

    assert (later.year * 12 + later.month) - (start.year * 12 + start.month) == months
    last_day = calendar.monthrange(later.year, later.month)[1]
    assert later.day == min(start.day, last_day)
    assert later.time() == start.time()


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2028, 1, 31, tzinfo=UTC), datetime(2028, 2, 29, tzinfo=UTC)),  # leap year
        (datetime(2026, 12, 15, tzinfo=UTC), datetime(2027, 1, 15, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), datetime(2026, 4, 30, tzinfo=UTC)),
    ],
)
def test_due_one_calendar_month_after_receipt(received: datetime, due: datetime) -> None:
    r = verified(replace(request(), received_at=received), at=received)

    assert r.due_at(received) == due


def test_the_clock_stops_while_identity_is_unverified() -> None:
    r = request()
    ten_days = RECEIVED + timedelta(days=10)

    assert r.due_at(ten_days) == add_months(RECEIVED, 1) + timedelta(days=10)
    assert r.elapsed(ten_days) == timedelta(0)
    assert not r.at_risk(ten_days)

    v = verified(r, at=ten_days)
    assert v.due_at(ten_days + timedelta(days=30)) == add_months(RECEIVED, 1) + timedelta(days=10)
    assert v.elapsed(ten_days + timedelta(days=20)) == timedelta(days=20)
    assert v.at_risk(ten_days + timedelta(days=20))
    assert not v.at_risk(ten_days + timedelta(days=19, hours=23))


def test_extensions_need_a_reason_and_stop_at_two_months() -> None:
    r = verified(request())
    by, at = "staff-ana", RECEIVED

    one = model.extend(r, Extension(1, "many requests this month", by, at))
    two = model.extend(one, Extension(1, "complex", by, at))

    assert two.due_at(at) == add_months(RECEIVED, 3)
    with pytest.raises(ValidationFailed):
        model.extend(two, Extension(1, "again", by, at))
    with pytest.raises(ValidationFailed):
        model.extend(r, Extension(3, "too long", by, at))
    with pytest.raises(ValidationFailed):
        model.extend(r, Extension(1, "  ", by, at))


def test_an_erasure_staff_opened_is_approved_by_someone_else() -> None:
    r = verified(request(by="staff-ana"))

    with pytest.raises(Forbidden):
        model.approve(r, "staff-ana")
    with pytest.raises(Conflict):
        model.start(r)  # not approved yet
    approved = model.approve(r, "staff-ben")
    assert model.start(approved).state is RequestState.RUNNING


def test_what_the_subject_asks_in_the_app_needs_no_approval() -> None:
    r = verified(request(by=SUBJECT))

    with pytest.raises(Conflict):
        model.approve(r, "staff-ben")
    assert model.start(r).state is RequestState.RUNNING


def test_an_erasure_forgets_its_subject_when_it_completes_an_export_does_not() -> None:
    for kind, uid in ((RequestKind.ERASURE, None), (RequestKind.EXPORT, "u-1")):
        running = model.start(verified(request(kind, by=SUBJECT)))
        done = model.complete(running, RECEIVED + timedelta(days=1))
        assert done.subject_uid == uid
        assert done.state is RequestState.COMPLETED
        assert model.complete(done, RECEIVED + timedelta(days=2)) == done  # idempotent


def test_refusing_or_cancelling_needs_a_reason_and_an_open_request_not_yet_running() -> None:
    r = verified(request())

    refused = model.refuse(r, "manifestly unfounded (Art. 12(5))", RECEIVED)
    assert refused.state is RequestState.REFUSED
    with pytest.raises(Conflict):
        model.cancel(refused, "changed my mind", RECEIVED)
    with pytest.raises(Conflict):
        model.refuse(model.start(model.approve(r, "staff-ben")), "too late", RECEIVED)
    with pytest.raises(ValidationFailed):
        model.cancel(r, "", RECEIVED)
    with pytest.raises(ValidationFailed):
        model.cancel(r, "nul\x00", RECEIVED)


def test_an_erasure_starts_with_the_erased_list_and_ends_with_firebase_auth_then_the_scan() -> None:
    steps = [s.name for s in plan(uuid4(), RequestKind.ERASURE)]
    entries = entries_for(RequestKind.ERASURE)
    stores = [e.store for e in entries]

    assert steps[0] == ERASED_LIST
    assert steps[-2:] == ["firebase_account", SCAN]
    # Legacy documents go before the Postgres rows a backfill would read them against, and the
    # user's own row (the version counter) is the last of Postgres.
    assert stores.index(DataStore.FIRESTORE) < stores.index(DataStore.POSTGRES)
    postgres = [e.name for e in entries if e.store is DataStore.POSTGRES]
    assert postgres[-1] == "users"
    # The legacy profile's erasure takes what is under it: each kind goes first, as itself.
    legacy = [e.name for e in entries if e.store is DataStore.FIRESTORE]
    assert legacy[-1] == "firestore_users"
    assert not any(e.erasure is Erasure.KEPT for e in entries)


def test_an_export_covers_every_exported_kind_then_the_archive() -> None:
    steps = [s.name for s in plan(uuid4(), RequestKind.EXPORT)]

    assert steps[-2:] == [DERIVED, ARCHIVE]
    assert {"users", "devices", "firebase_account", "firestore_sessions"} <= set(steps)
    assert "idempotency_keys" not in steps
