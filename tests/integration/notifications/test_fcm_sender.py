"""The FCM sender against a loopback FCM: the message it sends, and what each answer means."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from google.oauth2.credentials import Credentials
from google.oauth2.service_account import Credentials as ServiceAccountCredentials

from domain.devices.model import Platform
from domain.push.model import MAX_PAYLOAD_BYTES, PushOutcome, PushResult, SilentPush
from notifications.fcm import FcmConfig, FcmSender
from tests.support import fcm_errors as fcm
from tests.support.clock import TestClock
from tests.support.google import new_signing_key, service_account
from tests.support.processes import free_port

if TYPE_CHECKING:  # imported by pytest as a plugin, not here: its module must load once
    from tests.support.fake_fcm import FakeFcm

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
TOKEN = "fcm-token-0123456789abcdef"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


@pytest.fixture(autouse=True)
def _held_clock(clock: TestClock) -> None:
    clock.set(NOW)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return new_signing_key()


@pytest.fixture
def config(fake_fcm: FakeFcm, tmp_path: Path, key: rsa.RSAPrivateKey) -> FcmConfig:
    return FcmConfig(
        project_id=fake_fcm.project_id,
        credentials_file=fake_fcm.service_account_file(tmp_path, key),
        base_url=fake_fcm.base_url,
        timeout_seconds=2,
    )


@pytest.fixture
async def sender(config: FcmConfig, clock: TestClock) -> AsyncIterator[FcmSender]:
    async with FcmSender(config, clock=clock) as fcm_sender:
        yield fcm_sender


def silent_push(
    token: str = TOKEN,
    *,
    urgent: bool = False,
    data: dict[str, str] | None = None,
    expires_in: timedelta = timedelta(hours=1),
) -> SilentPush:
    return SilentPush(
        token=token,
        platform=Platform.ANDROID,
        apns_environment=None,
        collapse_id="sync",
        data={"kind": "sync", "version": "12"} if data is None else data,
        expires_at=NOW + expires_in,
        urgent=urgent,
    )


async def test_a_push_goes_out_as_a_data_only_message_and_is_delivered(
    sender: FcmSender, fake_fcm: FakeFcm
) -> None:
    result = await sender.send(silent_push())

    assert seen(result) == (PushOutcome.DELIVERED, None, 200)
    (sent,) = fake_fcm.sends
    assert sent.path == f"/v1/projects/{fake_fcm.project_id}/messages:send"
    assert sent.headers["content-type"].startswith("application/json")
    assert sent.body == {
        "message": {
            "token": TOKEN,
            "data": {"kind": "sync", "version": "12"},
            "android": {"priority": "NORMAL", "collapse_key": "sync", "ttl": "3600s"},
        }
    }


@pytest.mark.parametrize(("urgent", "priority"), [(True, "HIGH"), (False, "NORMAL")])
async def test_only_an_urgent_push_asks_for_high_priority(
    sender: FcmSender, fake_fcm: FakeFcm, urgent: bool, priority: str
) -> None:
    await sender.send(silent_push(urgent=urgent))

    assert fake_fcm.sends[0].body["message"]["android"]["priority"] == priority


@pytest.mark.parametrize(
    ("expires_in", "ttl"),
    [
        (timedelta(seconds=90.7), "90s"),
        (timedelta(days=1), "86400s"),
        (timedelta(days=60), "2419200s"),  # FCM keeps a message four weeks at most
        (timedelta(seconds=-5), "0s"),
    ],
)
async def test_the_ttl_is_the_whole_seconds_left_until_the_push_expires(
    sender: FcmSender, fake_fcm: FakeFcm, expires_in: timedelta, ttl: str
) -> None:
    await sender.send(silent_push(expires_in=expires_in))

    assert fake_fcm.sends[0].body["message"]["android"]["ttl"] == ttl


async def test_pushes_carry_a_bearer_token_got_once_from_the_service_account(
    sender: FcmSender, fake_fcm: FakeFcm
) -> None:
    await sender.send(silent_push())
    await sender.send(silent_push())

    (token_request,) = fake_fcm.token_requests
    claims = token_request.body["assertion"]
    assert claims["scope"] == FCM_SCOPE
    assert claims["aud"] == "https://oauth2.googleapis.com/token"  # google-auth's fixed audience
    assert claims["iss"] == f"verifier@{fake_fcm.project_id}.iam.gserviceaccount.com"
    (access_token,) = fake_fcm.issued_tokens
    assert [s.headers["authorization"] for s in fake_fcm.sends] == [f"Bearer {access_token}"] * 2


async def test_concurrent_pushes_share_one_access_token(
    sender: FcmSender, fake_fcm: FakeFcm
) -> None:
    async with anyio.create_task_group() as group:
        for n in range(20):
            group.start_soon(sender.send, silent_push(f"token-{n}"))

    assert len(fake_fcm.sends) == 20
    assert len(fake_fcm.token_requests) == 1


async def test_a_refused_access_token_is_replaced_before_the_next_push(
    sender: FcmSender, fake_fcm: FakeFcm
) -> None:
    await sender.send(silent_push())
    fake_fcm.revoke_tokens()

    refused = await sender.send(silent_push())
    retried = await sender.send(silent_push())

    assert (refused.outcome, refused.reason) == (PushOutcome.RETRY_LATER, "UNAUTHENTICATED")
    assert retried.outcome is PushOutcome.DELIVERED
    assert fake_fcm.sends[-1].headers["authorization"] == f"Bearer {fake_fcm.issued_tokens[-1]}"
    assert len(fake_fcm.issued_tokens) == 2


async def test_a_token_fcm_no_longer_knows_is_reported_unregistered(
    sender: FcmSender, fake_fcm: FakeFcm
) -> None:
    fake_fcm.fail_token("gone-token", fcm.UNREGISTERED)

    gone = await sender.send(silent_push("gone-token"))
    other = await sender.send(silent_push("live-token"))

    assert seen(gone) == (PushOutcome.UNREGISTERED, "UNREGISTERED", 404)
    assert other.outcome is PushOutcome.DELIVERED


async def test_a_token_fcm_calls_malformed_is_reported_unregistered(
    sender: FcmSender, fake_fcm: FakeFcm
) -> None:
    fake_fcm.fail_token(TOKEN, fcm.INVALID_TOKEN)

    result = await sender.send(silent_push())

    assert (result.outcome, result.reason) == (PushOutcome.UNREGISTERED, "InvalidRegistration")


async def test_a_token_of_another_firebase_project_is_reported_unregistered(
    sender: FcmSender, fake_fcm: FakeFcm
) -> None:
    fake_fcm.fail_token(TOKEN, fcm.SENDER_ID_MISMATCH)

    result = await sender.send(silent_push())

    assert (result.outcome, result.reason) == (PushOutcome.UNREGISTERED, "SENDER_ID_MISMATCH")


async def test_a_404_that_is_no_verdict_on_the_token_does_not_unregister_it(
    config: FcmConfig, fake_fcm: FakeFcm
) -> None:
    async with FcmSender(replace(config, project_id="not-our-project")) as fcm_sender:
        result = await fcm_sender.send(silent_push())

    assert seen(result) == (PushOutcome.REJECTED, "NOT_FOUND", 404)


@pytest.mark.parametrize(
    ("failure", "retry_after"),
    [
        (fcm.QUOTA_EXCEEDED.with_retry_after("30"), 30.0),
        (
            fcm.QUOTA_EXCEEDED.with_retry_after(
                format_datetime(NOW + timedelta(minutes=2), usegmt=True)
            ),
            120.0,
        ),
        (fcm.QUOTA_EXCEEDED.with_retry_info("12.5s"), 12.5),
        (fcm.QUOTA_EXCEEDED, None),
    ],
    ids=["seconds", "http-date", "retry-info", "none"],
)
async def test_quota_exceeded_is_retried_later_after_the_delay_fcm_asked_for(
    sender: FcmSender, fake_fcm: FakeFcm, failure: fcm.Failure, retry_after: float | None
) -> None:
    fake_fcm.fail_next(failure)

    result = await sender.send(silent_push())

    assert seen(result) == (PushOutcome.RETRY_LATER, "QUOTA_EXCEEDED", 429)
    assert result.retry_after_seconds == retry_after


@pytest.mark.parametrize("failure", [fcm.UNAVAILABLE, fcm.INTERNAL], ids=lambda f: f.error_code)
async def test_a_server_error_is_retried_later_by_us_not_by_the_client(
    sender: FcmSender, fake_fcm: FakeFcm, failure: fcm.Failure
) -> None:
    fake_fcm.fail_next(failure.with_retry_after("7"), count=5)

    result = await sender.send(silent_push())

    assert seen(result) == (PushOutcome.RETRY_LATER, failure.error_code, failure.status)
    assert result.retry_after_seconds == 7.0
    assert len(fake_fcm.sends) == 1


async def test_a_message_fcm_finds_invalid_is_rejected_and_sent_once(
    sender: FcmSender, fake_fcm: FakeFcm
) -> None:
    fake_fcm.fail_next(fcm.INVALID_ARGUMENT)

    result = await sender.send(silent_push())

    assert seen(result) == (PushOutcome.REJECTED, "INVALID_ARGUMENT", 400)
    assert len(fake_fcm.sends) == 1


async def test_apns_credentials_fcm_cannot_use_are_a_rejection_not_a_token_problem(
    sender: FcmSender, fake_fcm: FakeFcm
) -> None:
    fake_fcm.fail_next(fcm.THIRD_PARTY_AUTH_ERROR)

    result = await sender.send(silent_push())
    await sender.send(silent_push())

    assert seen(result) == (PushOutcome.REJECTED, "THIRD_PARTY_AUTH_ERROR", 401)
    assert len(fake_fcm.token_requests) == 1  # our own access token was fine


async def test_data_over_the_limit_is_rejected_without_being_sent(
    sender: FcmSender, fake_fcm: FakeFcm
) -> None:
    over = {"k": "x" * (MAX_PAYLOAD_BYTES - len('{"k":""}') + 1)}

    result = await sender.send(silent_push(data=over))

    assert seen(result) == (PushOutcome.REJECTED, "PayloadTooLarge", None)
    assert fake_fcm.requests == []


async def test_data_of_exactly_the_limit_is_sent(sender: FcmSender, fake_fcm: FakeFcm) -> None:
    # Multi-byte characters count as their UTF-8 bytes: "é" is two.
    at_limit = {"k": "é" * ((MAX_PAYLOAD_BYTES - len('{"k":""}')) // 2)}

    result = await sender.send(silent_push(data=at_limit))

    assert result.outcome is PushOutcome.DELIVERED
    assert fake_fcm.sends[0].body["message"]["data"] == at_limit


async def test_fcm_unreachable_is_a_lost_connection_to_retry_later(clock: TestClock) -> None:
    closed_port = FcmConfig(
        project_id="p",
        credentials=Credentials(token="preset-token"),  # type: ignore[no-untyped-call]
        base_url=closed_url(),
    )
    async with FcmSender(closed_port, clock=clock) as fcm_sender:
        result = await fcm_sender.send(silent_push())

    assert seen(result) == (PushOutcome.RETRY_LATER, "ConnectionLost", None)


async def test_an_answer_that_never_comes_is_a_lost_connection_to_retry_later(
    config: FcmConfig, fake_fcm: FakeFcm
) -> None:
    fake_fcm.hang_next()
    async with FcmSender(replace(config, timeout_seconds=0.3)) as fcm_sender:
        result = await fcm_sender.send(silent_push())
        after = await fcm_sender.send(silent_push())

    assert (result.outcome, result.reason) == (PushOutcome.RETRY_LATER, "ConnectionLost")
    assert after.outcome is PushOutcome.DELIVERED


async def test_a_token_endpoint_out_of_reach_is_retried_later_without_sending(
    fake_fcm: FakeFcm, key: rsa.RSAPrivateKey, config: FcmConfig
) -> None:
    account = {**service_account(key, fake_fcm.project_id), "token_uri": closed_url("/token")}
    credentials = ServiceAccountCredentials.from_service_account_info(account)  # type: ignore[no-untyped-call]
    async with FcmSender(replace(config, credentials=credentials)) as fcm_sender:
        result = await fcm_sender.send(silent_push())

    assert (result.outcome, result.reason) == (PushOutcome.RETRY_LATER, "AccessTokenUnavailable")
    assert fake_fcm.requests == []


def closed_url(path: str = "") -> str:
    return f"http://127.0.0.1:{free_port()}{path}"


def seen(result: PushResult) -> tuple[PushOutcome, str | None, int | None]:
    return result.outcome, result.reason, result.status
