"""The Vertex AI Gemini provider against a loopback Vertex AI: what it sends, how it waits out
rate limits and server errors within its deadline, which answers it refuses, what it counts."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime
from datetime import time as clock_time
from typing import Any
from uuid import UUID

import pytest
from prometheus_client import REGISTRY

from ai.vertex import VertexInsightProvider
from domain.ai.features import WeekFeatures, week_features
from domain.ai.ports import (
    InvalidOutput,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)
from domain.ai.prompt import insight_prompt, suggestion_prompt
from domain.focus_sessions.model import Outcome
from domain.schedules.model import Weekday
from tests.support.fake_vertex import (
    INTERNAL,
    PROMPT_BLOCK,
    RESOURCE_EXHAUSTED,
    SAFETY_BLOCK,
    UNAVAILABLE,
    FakeVertex,
    Reply,
    isolated_fake_vertex,
)
from tests.unit.ai.builders import schedule, session_at_utc

pytestmark = pytest.mark.anyio

SECRET_UID = "uid-Qx7SecretPerson"
SECRET_SCHEDULE = "Mum's birthday Qx7"
SECRET_ID = UUID("0badc0de-1234-4abc-8def-0123456789ab")
INSIGHT = {"text": "Your best hours were 9:00-11:00, with 45 minutes of focus.", "numbers": [45]}


@pytest.fixture
def fake_vertex(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVertex]:
    with isolated_fake_vertex(monkeypatch) as fake:
        yield fake


@pytest.fixture
def features() -> WeekFeatures:
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    session = session_at_utc(start, 45, "Europe/Berlin", Outcome.COMPLETED, uid=SECRET_UID)
    sessions = [dataclasses.replace(session, blocklist_id=SECRET_ID)]
    evenings = schedule(
        [Weekday.MON], clock_time(20), clock_time(22), name=SECRET_SCHEDULE, uid=SECRET_UID
    )
    return week_features(sessions, [evenings], date(2026, 3, 2))


@dataclasses.dataclass
class Waits:
    """The provider's sleep: records each wait and returns at once."""

    seconds: list[float] = dataclasses.field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def provider(make: Callable[..., VertexInsightProvider]) -> VertexInsightProvider:
    return make()


@pytest.fixture
async def make(
    fake_vertex: FakeVertex, waits: Waits
) -> AsyncIterator[Callable[..., VertexInsightProvider]]:
    made: list[VertexInsightProvider] = []

    def build(**changes: Any) -> VertexInsightProvider:
        config = fake_vertex.config(**{"timeout_seconds": 5.0} | changes)
        made.append(
            VertexInsightProvider(config, credentials=fake_vertex.credentials(), sleep=waits)
        )
        return made[-1]

    yield build
    for provider in made:
        await provider.aclose()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"provider": "vertex-gemini", **labels}) or 0.0


async def test_an_insight_and_a_suggestion_come_back_from_the_models_json(
    fake_vertex: FakeVertex, provider: VertexInsightProvider, features: WeekFeatures
) -> None:
    fake_vertex.reply_next(json.dumps(INSIGHT))
    fake_vertex.reply_next(
        json.dumps(
            {
                "days": ["mon", "tue"],
                "start_local": "20:30",
                "end_local": "01:00",
                "reason": "Your evenings are when you focus.",
            }
        )
    )

    insight = await provider.weekly_insight(features)
    suggestion = await provider.schedule_suggestion(features)

    assert provider.name == "vertex-gemini"
    assert (insight.text, insight.numbers) == (INSIGHT["text"], (45,))
    assert suggestion.days == (Weekday.MON, Weekday.TUE)
    assert (suggestion.start_local, suggestion.end_local) == (clock_time(20, 30), clock_time(1))
    assert suggestion.reason == "Your evenings are when you focus."


async def test_the_request_asks_for_json_of_the_schema_with_the_prompt_and_nothing_personal(
    fake_vertex: FakeVertex, provider: VertexInsightProvider, features: WeekFeatures
) -> None:
    await provider.weekly_insight(features)
    await provider.schedule_suggestion(features)

    insight_request, suggestion_request = fake_vertex.requests
    for request, prompt in (
        (insight_request, insight_prompt(features)),
        (suggestion_request, suggestion_prompt(features)),
    ):
        assert request.path == (
            f"/v1beta1/projects/{fake_vertex.project}/locations/{fake_vertex.location}"
            "/publishers/google/models/gemini-2.5-flash:generateContent"
        )
        assert request.system_text == prompt.system
        assert request.user_text == prompt.user
        assert request.generation_config["responseMimeType"] == "application/json"
        raw = json.dumps(request.body).lower()
        for secret in (SECRET_UID, SECRET_SCHEDULE, "qx7", str(SECRET_ID), SECRET_ID.hex):
            assert secret.lower() not in raw
    insight_schema = insight_request.generation_config["responseSchema"]
    assert insight_schema["required"] == ["text", "numbers"]
    assert insight_schema["properties"]["numbers"]["items"]["type"] == "INTEGER"
    suggestion_schema = suggestion_request.generation_config["responseSchema"]
    assert suggestion_schema["required"] == ["days", "start_local", "end_local", "reason"]
    days = suggestion_schema["properties"]["days"]["items"]["enum"]
    assert days == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


async def test_a_rate_limit_is_waited_out_as_retry_after_says_then_answered(
    fake_vertex: FakeVertex, provider: VertexInsightProvider, features: WeekFeatures, waits: Waits
) -> None:
    fake_vertex.fail_next(dataclasses.replace(RESOURCE_EXHAUSTED, retry_after="2"))
    fake_vertex.fail_next(dataclasses.replace(RESOURCE_EXHAUSTED, retry_delay="1.5s"))

    insight = await provider.weekly_insight(features)

    assert insight.text
    assert waits.seconds == [2.0, 1.5]
    assert len(fake_vertex.requests) == 3


async def test_a_rate_limit_that_lasts_is_reported_with_when_to_ask_again(
    fake_vertex: FakeVertex, make: Callable[..., VertexInsightProvider], features: WeekFeatures
) -> None:
    fake_vertex.fail_next(dataclasses.replace(RESOURCE_EXHAUSTED, retry_after="3"), count=9)

    with pytest.raises(ProviderRateLimited) as raised:
        await make(max_attempts=3, timeout_seconds=30.0).weekly_insight(features)

    assert raised.value.retry_after_seconds == 3
    assert len(fake_vertex.requests) == 3


async def test_a_retry_after_beyond_the_deadline_is_not_waited_for(
    fake_vertex: FakeVertex,
    make: Callable[..., VertexInsightProvider],
    features: WeekFeatures,
    waits: Waits,
) -> None:
    fake_vertex.fail_next(dataclasses.replace(RESOURCE_EXHAUSTED, retry_after="60"))

    with pytest.raises(ProviderRateLimited) as raised:
        await make(timeout_seconds=2.0).schedule_suggestion(features)

    assert raised.value.retry_after_seconds == 60
    assert (len(fake_vertex.requests), waits.seconds) == (1, [])


async def test_a_rate_limit_without_a_hint_backs_off_exponentially(
    fake_vertex: FakeVertex,
    make: Callable[..., VertexInsightProvider],
    features: WeekFeatures,
    waits: Waits,
) -> None:
    fake_vertex.fail_next(RESOURCE_EXHAUSTED, count=4)

    with pytest.raises(ProviderRateLimited) as raised:
        await make(max_attempts=4, backoff_seconds=0.5).weekly_insight(features)

    assert waits.seconds == [0.5, 1.0, 2.0]
    assert raised.value.retry_after_seconds == 4


@pytest.mark.parametrize("failure", [INTERNAL, UNAVAILABLE], ids=["500", "503"])
async def test_server_errors_are_retried_then_the_provider_is_unavailable(
    fake_vertex: FakeVertex,
    provider: VertexInsightProvider,
    features: WeekFeatures,
    waits: Waits,
    failure: Any,
) -> None:
    fake_vertex.fail_next(failure, count=3)

    with pytest.raises(ProviderUnavailable):
        await provider.weekly_insight(features)

    assert len(fake_vertex.requests) == 3
    assert waits.seconds == [0.5, 1.0]


async def test_a_server_error_then_an_answer_is_an_answer(
    fake_vertex: FakeVertex, provider: VertexInsightProvider, features: WeekFeatures
) -> None:
    fake_vertex.fail_next(UNAVAILABLE)
    fake_vertex.reply_next(json.dumps(INSIGHT))

    assert (await provider.weekly_insight(features)).numbers == (45,)


async def test_an_unreachable_endpoint_is_retried_then_unavailable(
    fake_vertex: FakeVertex,
    make: Callable[..., VertexInsightProvider],
    features: WeekFeatures,
    waits: Waits,
) -> None:
    with pytest.raises(ProviderUnavailable) as raised:
        await make(base_url="http://127.0.0.1:9").weekly_insight(features)

    assert type(raised.value.__cause__).__name__ == "ConnectError"
    assert len(waits.seconds) == 2


async def test_refused_credentials_are_not_asked_again(
    fake_vertex: FakeVertex, features: WeekFeatures
) -> None:
    from google.oauth2.credentials import Credentials

    stale = Credentials(token="someone-elses-token")  # type: ignore[no-untyped-call]
    provider = VertexInsightProvider(fake_vertex.config(), credentials=stale)
    try:
        with pytest.raises(ProviderUnavailable, match="401 UNAUTHENTICATED"):
            await provider.weekly_insight(features)
    finally:
        await provider.aclose()

    assert len(fake_vertex.requests) == 1


async def test_a_hang_is_a_timeout_within_the_configured_time(
    fake_vertex: FakeVertex, make: Callable[..., VertexInsightProvider], features: WeekFeatures
) -> None:
    fake_vertex.hang_next()
    started = time.monotonic()

    with pytest.raises(ProviderTimeout):
        await make(timeout_seconds=0.3).weekly_insight(features)

    assert time.monotonic() - started < 0.3 + 0.5
    assert len(fake_vertex.requests) == 1


@pytest.mark.parametrize(
    ("reply", "violation"),
    [
        (Reply("Your best hours were 9-11."), "not_json"),
        (Reply("```json\n" + json.dumps(INSIGHT) + "\n```"), "not_json"),
        (Reply(json.dumps({"text": "Nine to eleven."})), "wrong_schema"),
        (Reply(json.dumps({**INSIGHT, "numbers": ["45"]})), "wrong_schema"),
        (Reply(json.dumps([INSIGHT])), "wrong_schema"),
        (Reply("  "), "empty_answer"),
        (Reply(json.dumps(INSIGHT)[:30], "MAX_TOKENS"), "truncated"),
        (SAFETY_BLOCK, "safety_blocked"),
        (PROMPT_BLOCK, "prompt_blocked"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
async def test_an_answer_that_is_not_json_of_the_schema_is_invalid_output(
    fake_vertex: FakeVertex,
    provider: VertexInsightProvider,
    features: WeekFeatures,
    reply: Reply,
    violation: str,
) -> None:
    fake_vertex.reply_next(reply)

    with pytest.raises(InvalidOutput) as raised:
        await provider.weekly_insight(features)

    assert raised.value.violations == (violation,)
    assert len(fake_vertex.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [
        {"days": ["monday"], "start_local": "09:00", "end_local": "11:00", "reason": "r"},
        {"days": ["mon"], "start_local": "9am", "end_local": "11:00", "reason": "r"},
        {"days": ["mon"], "start_local": "09:00", "end_local": "24:00", "reason": "r"},
        {"days": "mon", "start_local": "09:00", "end_local": "11:00", "reason": "r"},
        {"days": ["mon"], "start_local": "09:00", "end_local": "11:00"},
    ],
)
async def test_a_suggestion_off_the_schema_is_invalid_output(
    fake_vertex: FakeVertex,
    provider: VertexInsightProvider,
    features: WeekFeatures,
    answer: dict[str, Any],
) -> None:
    fake_vertex.reply_next(json.dumps(answer))

    with pytest.raises(InvalidOutput) as raised:
        await provider.schedule_suggestion(features)

    assert raised.value.violations == ("wrong_schema",)


async def test_tokens_cost_and_latency_are_counted_even_for_a_refused_answer(
    fake_vertex: FakeVertex, provider: VertexInsightProvider, features: WeekFeatures
) -> None:
    feature = "weekly_insight"
    tokens_in = sample("focus_ai_tokens_used_total", feature=feature, direction="input")
    tokens_out = sample("focus_ai_tokens_used_total", feature=feature, direction="output")
    cost = sample("focus_ai_cost_usd_total", feature=feature)
    ok = sample("focus_ai_provider_latency_seconds_count", feature=feature, outcome="ok")
    refused = sample(
        "focus_ai_provider_latency_seconds_count", feature=feature, outcome="invalid_output"
    )
    fake_vertex.reply_next(json.dumps(INSIGHT))
    fake_vertex.reply_next("not json at all")

    await provider.weekly_insight(features)
    with pytest.raises(InvalidOutput):
        await provider.weekly_insight(features)

    usage = [answer["usageMetadata"] for answer in fake_vertex.answers]
    sent = sum(u["promptTokenCount"] for u in usage)
    written = sum(u.get("candidatesTokenCount", 0) for u in usage)
    assert sent > 0
    assert written > 0
    assert sample("focus_ai_tokens_used_total", feature=feature, direction="input") == (
        tokens_in + sent
    )
    assert sample("focus_ai_tokens_used_total", feature=feature, direction="output") == (
        tokens_out + written
    )
    expected = (sent * 0.30 + written * 2.50) / 1_000_000
    assert sample("focus_ai_cost_usd_total", feature=feature) == pytest.approx(cost + expected)
    assert sample("focus_ai_provider_latency_seconds_count", feature=feature, outcome="ok") == (
        ok + 1
    )
    assert sample(
        "focus_ai_provider_latency_seconds_count", feature=feature, outcome="invalid_output"
    ) == (refused + 1)


async def test_neither_prompt_nor_answer_reaches_the_logs(
    fake_vertex: FakeVertex,
    provider: VertexInsightProvider,
    features: WeekFeatures,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_vertex.fail_next(INTERNAL)
    fake_vertex.reply_next("Your best hours were 9-11, not JSON.")

    with pytest.raises(InvalidOutput):
        await provider.weekly_insight(features)

    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "ai.vertex.failed" in logged
    assert "best hours" not in logged
    assert "Focused minutes" not in logged
