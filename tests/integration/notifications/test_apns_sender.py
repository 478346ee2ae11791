"""The APNs sender against a loopback APNs (tests/support/fake_apns.py): what goes on the wire,
what each answer means, and how it rides out expired tokens and broken connections."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from domain.devices.model import ApnsEnvironment, Platform
from domain.push.model import PushOutcome, SilentPush
from domain.push.ports import PushSender
from notifications.apns import ApnsConfig, ApnsSender
from tests.support.clock import TestClock
from tests.support.fake_apns import ApnsCredentials, Failure, FakeApns, Reply
from tests.support.processes import free_port

pytestmark = pytest.mark.anyio

TOKEN = "a1b2c3d4" * 8
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def push(
    token: str = TOKEN,
    environment: ApnsEnvironment = ApnsEnvironment.PRODUCTION,
    data: dict[str, str] | None = None,
) -> SilentPush:
    return SilentPush(
        token=token,
        platform=Platform.IOS,
        apns_environment=environment,
        collapse_id="sync",
        data={"kind": "sync", "version": "12"} if data is None else data,
        expires_at=NOW + timedelta(hours=4),
    )


@asynccontextmanager
async def sender_to(
    fake: FakeApns, clock: TestClock, sandbox: FakeApns | None = None, **config: Any
) -> AsyncIterator[PushSender]:
    creds = fake.credentials
    config = {"production_url": fake.url, "sandbox_url": (sandbox or fake).url, **config}
    sender = ApnsSender(
        ApnsConfig(
            creds.key_id,
            creds.team_id,
            creds.topic,
            creds.private_key_pem,
            ca_file=fake.ca_file,
            **config,
        ),
        clock=clock,
    )
    try:
        yield sender
    finally:
        await sender.aclose()


def claims(provider_token: str, creds: ApnsCredentials) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(
        provider_token, creds.public_key_pem, algorithms=["ES256"], options={"verify_iat": False}
    )
    return decoded


async def test_a_silent_push_carries_apples_background_headers_and_only_content_available(
    fake_apns: FakeApns, clock: TestClock
) -> None:
    clock.set(NOW)
    async with sender_to(fake_apns, clock) as sender:
        result = await sender.send(push())

    assert result.outcome is PushOutcome.DELIVERED
    [request] = fake_apns.requests
    assert (request.method, request.path) == ("POST", f"/3/device/{TOKEN}")
    assert request.authority == fake_apns.url.removeprefix("https://")
    sent = {k: v for k, v in request.headers.items() if k != "authorization"}
    assert sent == {
        "apns-push-type": "background",
        "apns-priority": "5",
        "apns-topic": fake_apns.credentials.topic,
        "apns-collapse-id": "sync",
        "apns-expiration": str(int((NOW + timedelta(hours=4)).timestamp())),
    }
    assert request.body == b'{"aps":{"content-available":1},"kind":"sync","version":"12"}'
    creds = fake_apns.credentials
    assert request.headers["authorization"].startswith("bearer ")
    assert jwt.get_unverified_header(request.provider_token) == {
        "alg": "ES256",
        "kid": "ABC123DEFG",
    }
    assert claims(request.provider_token, creds) == {
        "iss": creds.team_id,
        "iat": int(NOW.timestamp()),
    }


@pytest.mark.parametrize("reason", ["Unregistered", "ExpiredToken"])
async def test_an_unregistered_token_reports_when_apple_last_saw_it(
    fake_apns: FakeApns, clock: TestClock, reason: str
) -> None:
    last_valid = datetime(2026, 11, 20, 17, 45, 12, 250000, tzinfo=UTC)
    fake_apns.respond_to(TOKEN, Reply(410, reason, timestamp_ms=1_795_196_712_250))
    async with sender_to(fake_apns, clock) as sender:
        result = await sender.send(push())

    assert result.outcome is PushOutcome.UNREGISTERED
    assert (result.status, result.reason, result.unregistered_at) == (410, reason, last_valid)


async def test_throttling_asks_to_retry_after_the_delay_apns_gave(
    fake_apns: FakeApns, clock: TestClock
) -> None:
    fake_apns.respond_next(Reply(429, "TooManyRequests", retry_after="120"))
    async with sender_to(fake_apns, clock) as sender:
        result = await sender.send(push())

    assert result.outcome is PushOutcome.RETRY_LATER
    assert (result.status, result.reason, result.retry_after_seconds) == (
        429,
        "TooManyRequests",
        120,
    )
    assert len(fake_apns.requests) == 1


@pytest.mark.parametrize(
    ("status", "reason", "retry_after", "seconds"),
    [
        (500, "InternalServerError", None, None),
        (503, "ServiceUnavailable", "Mon, 23 Nov 2026 09:05:00 GMT", 300),
        (503, "Shutdown", "30", 30),
    ],
)
async def test_a_failing_apns_asks_to_retry_later_without_retrying_now(
    fake_apns: FakeApns,
    clock: TestClock,
    status: int,
    reason: str,
    retry_after: str | None,
    seconds: float | None,
) -> None:
    clock.set(NOW)
    fake_apns.respond_next(Reply(status, reason, retry_after=retry_after))
    async with sender_to(fake_apns, clock) as sender:
        result = await sender.send(push())

    assert result.outcome is PushOutcome.RETRY_LATER
    assert (result.status, result.reason, result.retry_after_seconds) == (status, reason, seconds)
    assert len(fake_apns.requests) == 1


@pytest.mark.parametrize("reason", ["BadDeviceToken", "DeviceTokenNotForTopic"])
async def test_a_token_apns_does_not_know_for_this_app_is_a_bad_token(
    fake_apns: FakeApns, clock: TestClock, reason: str
) -> None:
    fake_apns.respond_to(TOKEN, Reply(400, reason))
    async with sender_to(fake_apns, clock) as sender:
        result = await sender.send(push())

    assert (result.outcome, result.status, result.reason) == (PushOutcome.BAD_TOKEN, 400, reason)


async def test_a_sandbox_token_sent_to_production_is_a_bad_token(
    fake_apns: FakeApns, clock: TestClock
) -> None:
    async with sender_to(fake_apns, clock) as sender:
        result = await sender.send(push(token="not-a-hex-token"))

    assert (result.outcome, result.reason) == (PushOutcome.BAD_TOKEN, "BadDeviceToken")
    assert fake_apns.requests == []


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, "BadCollapseId"),
        (400, "BadExpirationDate"),
        (400, "MissingTopic"),
        (400, "TopicDisallowed"),
        (403, "InvalidProviderToken"),
        (404, "BadPath"),
        (413, "PayloadTooLarge"),
    ],
)
async def test_a_request_apns_refuses_is_rejected_and_never_retried(
    fake_apns: FakeApns, clock: TestClock, status: int, reason: str
) -> None:
    fake_apns.respond_next(Reply(status, reason))
    async with sender_to(fake_apns, clock) as sender:
        result = await sender.send(push())

    assert (result.outcome, result.status, result.reason) == (PushOutcome.REJECTED, status, reason)
    assert len(fake_apns.requests) == 1


async def test_a_provider_token_apns_calls_expired_is_replaced_and_the_push_delivered(
    fake_apns: FakeApns, clock: TestClock
) -> None:
    fake_apns.respond_next(Reply(403, "ExpiredProviderToken"))
    async with sender_to(fake_apns, clock) as sender:
        result = await sender.send(push())

    assert result.outcome is PushOutcome.DELIVERED
    first, second = fake_apns.requests
    assert first.provider_token != second.provider_token
    assert claims(second.provider_token, fake_apns.credentials)["iss"] == "TEAM123456"


async def test_a_new_provider_token_refused_as_expired_too_asks_to_retry_later(
    fake_apns: FakeApns, clock: TestClock
) -> None:
    expired = Reply(403, "ExpiredProviderToken")
    fake_apns.respond_next(expired, expired)
    async with sender_to(fake_apns, clock) as sender:
        result = await sender.send(push())

    assert (result.outcome, result.reason) == (PushOutcome.RETRY_LATER, "ExpiredProviderToken")
    assert len(fake_apns.requests) == 2


async def test_a_provider_token_older_than_apns_accepts_is_replaced(
    apns_credentials: ApnsCredentials, clock: TestClock
) -> None:
    clock.set(NOW)
    with FakeApns(apns_credentials, clock=clock, token_max_age=timedelta(minutes=30)) as fake:
        async with sender_to(fake, clock) as sender:
            assert (await sender.send(push())).outcome is PushOutcome.DELIVERED
            clock.advance(timedelta(minutes=35))
            assert (await sender.send(push())).outcome is PushOutcome.DELIVERED

        iats = [claims(r.provider_token, apns_credentials)["iat"] for r in fake.requests]
    minutes = [(iat - int(NOW.timestamp())) // 60 for iat in iats]
    assert minutes == [0, 0, 35]  # the stale token was refused once, then replaced


async def test_the_provider_token_is_reused_for_twenty_minutes_and_renewed_by_fifty(
    fake_apns: FakeApns, clock: TestClock
) -> None:
    clock.set(NOW)
    async with sender_to(fake_apns, clock) as sender:
        for minutes in (0, 1, 19, 20, 50, 51):
            clock.set(NOW + timedelta(minutes=minutes))
            assert (await sender.send(push())).outcome is PushOutcome.DELIVERED

    tokens = [r.provider_token for r in fake_apns.requests]
    assert len(set(tokens[:4])) == 1
    assert tokens[4] == tokens[5] != tokens[0]
    assert claims(tokens[4], fake_apns.credentials)["iat"] == int(NOW.timestamp()) + 50 * 60


async def test_a_payload_too_large_for_apns_is_rejected_without_being_sent(
    fake_apns: FakeApns, clock: TestClock
) -> None:
    async with sender_to(fake_apns, clock) as sender:
        result = await sender.send(push(data={"kind": "sync", "padding": "x" * 4096}))

    assert (result.outcome, result.reason) == (PushOutcome.REJECTED, "PayloadTooLarge")
    assert fake_apns.requests == []
    assert fake_apns.connections_opened == 0


async def test_a_connection_closed_before_the_answer_is_reopened_and_the_push_delivered(
    fake_apns: FakeApns, clock: TestClock
) -> None:
    fake_apns.respond_next(Reply.fail(Failure.CLOSE))
    async with sender_to(fake_apns, clock) as sender:
        result = await sender.send(push())

    assert result.outcome is PushOutcome.DELIVERED
    assert [r.connection for r in fake_apns.requests] == [1, 2]


@pytest.mark.parametrize(
    ("failure", "connections"), [(Failure.GOAWAY, [1, 2]), (Failure.RESET, [1, 1])]
)
async def test_a_goaway_or_a_reset_stream_is_survived_by_sending_again(
    fake_apns: FakeApns, clock: TestClock, failure: Failure, connections: list[int]
) -> None:
    fake_apns.respond_next(Reply.fail(failure))
    async with sender_to(fake_apns, clock) as sender:
        result = await sender.send(push())

    assert result.outcome is PushOutcome.DELIVERED
    assert [r.connection for r in fake_apns.requests] == connections


async def test_a_connection_that_keeps_breaking_asks_to_retry_later(
    fake_apns: FakeApns, clock: TestClock
) -> None:
    fake_apns.respond_next(Reply.fail(Failure.CLOSE), Reply.fail(Failure.CLOSE))
    async with sender_to(fake_apns, clock) as sender:
        result = await sender.send(push())
        assert (result.outcome, result.reason) == (PushOutcome.RETRY_LATER, "ConnectionLost")
        assert (await sender.send(push())).outcome is PushOutcome.DELIVERED

    assert fake_apns.connections_opened == 3


async def test_an_unreachable_apns_asks_to_retry_later(
    fake_apns: FakeApns, clock: TestClock
) -> None:
    async with sender_to(fake_apns, clock, production_url=f"https://127.0.0.1:{free_port()}") as s:
        result = await s.send(push())

    assert (result.outcome, result.reason) == (PushOutcome.RETRY_LATER, "ConnectFailed")


async def test_an_answer_that_never_comes_times_out_and_leaves_the_connection_usable(
    fake_apns: FakeApns, clock: TestClock
) -> None:
    fake_apns.respond_next(Reply.fail(Failure.SILENCE))
    async with sender_to(fake_apns, clock, timeout_seconds=0.3) as sender:
        result = await sender.send(push())
        assert (result.outcome, result.reason) == (PushOutcome.RETRY_LATER, "Timeout")
        assert (await sender.send(push())).outcome is PushOutcome.DELIVERED

    assert fake_apns.connections_opened == 1


async def test_answers_keep_coming_after_more_error_bodies_than_a_flow_control_window(
    fake_apns: FakeApns, clock: TestClock
) -> None:
    fake_apns.respond_to(TOKEN, Reply(400, "Unexplained" * 200))  # 2.2 KB per answer
    async with sender_to(fake_apns, clock, timeout_seconds=2) as sender:
        results = [await sender.send(push()) for _ in range(40)]  # > 64 KB in all

    assert {r.outcome for r in results} == {PushOutcome.REJECTED}
    assert fake_apns.connections_opened == 1


async def test_concurrent_pushes_share_one_connection(
    fake_apns: FakeApns, clock: TestClock
) -> None:
    tokens = [f"{n:064x}" for n in range(300)]
    async with sender_to(fake_apns, clock) as sender:
        results = await asyncio.gather(*(sender.send(push(token)) for token in tokens))

    assert {r.outcome for r in results} == {PushOutcome.DELIVERED}
    assert fake_apns.connections_opened == 1
    assert sorted(r.device_token for r in fake_apns.requests) == tokens


async def test_each_push_goes_to_the_apns_host_of_its_token(
    fake_apns: FakeApns, apns_credentials: ApnsCredentials, clock: TestClock
) -> None:
    with FakeApns(apns_credentials, clock=clock, certificates=fake_apns.certificates) as sandbox:
        async with sender_to(fake_apns, clock, sandbox=sandbox) as sender:
            await sender.send(push("0" * 64, ApnsEnvironment.SANDBOX))
            await sender.send(push("1" * 64, ApnsEnvironment.PRODUCTION))
            await sender.send(push("2" * 64, ApnsEnvironment.SANDBOX))

        assert [r.device_token for r in sandbox.requests] == ["0" * 64, "2" * 64]
    assert [r.device_token for r in fake_apns.requests] == ["1" * 64]


async def test_closing_the_sender_closes_its_connections(
    fake_apns: FakeApns, clock: TestClock
) -> None:
    async with sender_to(fake_apns, clock) as sender:
        await sender.send(push())
        assert fake_apns.open_connections == 1

    for _ in range(100):
        if fake_apns.open_connections == 0:
            break
        await asyncio.sleep(0.01)
    assert fake_apns.open_connections == 0


async def test_outcomes_are_logged_by_name_with_only_a_token_prefix(
    fake_apns: FakeApns, clock: TestClock, caplog: pytest.LogCaptureFixture
) -> None:
    fake_apns.respond_next(Reply(410, "Unregistered"))
    with caplog.at_level(logging.INFO, logger="notifications.apns"):
        async with sender_to(fake_apns, clock) as sender:
            await sender.send(push())

    [record] = [r for r in caplog.records if r.msg == "notifications.apns.token_unregistered"]
    assert record.__dict__["token_prefix"] == TOKEN[:8]
    assert all(TOKEN not in str(r.__dict__) for r in caplog.records)


async def test_a_connection_that_stops_answering_is_dropped_and_a_new_one_opened(
    fake_apns: FakeApns, clock: TestClock
) -> None:
    fake_apns.respond_next(*[Reply.fail(Failure.SILENCE)] * 3)  # a connection dead without a word
    async with sender_to(fake_apns, clock, timeout_seconds=0.3) as sender:
        silent = [await sender.send(push()) for _ in range(3)]
        after = await sender.send(push())

    assert {(r.outcome, r.reason) for r in silent} == {(PushOutcome.RETRY_LATER, "Timeout")}
    assert after.outcome is PushOutcome.DELIVERED
    assert fake_apns.connections_opened == 2
