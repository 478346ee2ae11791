"""The hosted provider: Gemini on Vertex AI through Google's `google-genai` SDK (ADR 0022).

One call is one deadline (`timeout_seconds`), attempts and waits included: a 429 is asked
again after its Retry-After (or an exponential backoff), a 5xx or a broken connection after
the backoff, while attempts and the deadline allow; the SDK's own retries are off. The answer
must be JSON of the requested schema, else `InvalidOutput`; this adapter checks the shape only
(keys, types, weekday names, "HH:MM" times) and leaves the rules of `domain.ai.validation`
(lengths, numbers, windows) to the caller, who validates every answer before using it.

Prompts and answers derive from a person's data: neither is ever logged, only error class names.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import time as clock_time
from typing import Any, TypeVar

import httpx
import httpx2
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import Credentials
from google.genai import Client, errors, types
from prometheus_client import Counter, Histogram

from domain.ai.features import WeekFeatures
from domain.ai.ports import (
    Insight,
    InvalidOutput,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
    Suggestion,
)
from domain.ai.prompt import Prompt, insight_prompt, suggestion_prompt
from domain.ai.validation import MAX_INSIGHT_CHARS, MAX_REASON_CHARS
from domain.schedules.model import Weekday

log = logging.getLogger(__name__)

LATENCY = Histogram(
    "focus_ai_provider_latency_seconds",
    "A hosted provider call, retries included",
    ["provider", "feature", "outcome"],
    buckets=(0.25, 0.5, 1, 2, 3, 5, 8, 13, 21, 34),
)
TOKENS = Counter(
    "focus_ai_tokens_used", "Tokens billed by the provider", ["provider", "feature", "direction"]
)
COST = Counter("focus_ai_cost_usd", "Estimated cost from the token prices", ["provider", "feature"])

NAME = "vertex-gemini"
T = TypeVar("T")
_TIMEOUTS = (TimeoutError, httpx.TimeoutException, httpx2.TimeoutException)
_CONNECTION = (httpx.TransportError, httpx2.TransportError, auth_exceptions.TransportError)
_BLOCKED = {"SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "RECITATION", "IMAGE_SAFETY"}
_HH_MM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_RETRY_DELAY = re.compile(r"(\d+(?:\.\d+)?)s")


@dataclass(frozen=True, slots=True)
class VertexConfig:
    project: str
    location: str
    model: str = "gemini-2.5-flash"
    timeout_seconds: float = 10.0
    """The whole call: every attempt and every wait between them."""
    max_attempts: int = 3
    base_url: str | None = None
    """Another endpoint than Vertex AI's regional one (a loopback fake in tests)."""
    backoff_seconds: float = 0.5
    """The first wait after a failure without Retry-After; doubled after each attempt."""
    usd_per_million_input_tokens: float = 0.30
    usd_per_million_output_tokens: float = 2.50
    """Gemini 2.5 Flash on Vertex AI (text, standard tier); thinking tokens are output."""


class VertexInsightProvider:
    """Implements `InsightProvider` with a Gemini model on Vertex AI."""

    def __init__(
        self,
        config: VertexConfig,
        *,
        credentials: Credentials | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`credentials` None means Application Default Credentials, fetched on the first call."""
        self._config = config
        self._clock = clock
        self._sleep = sleep
        self._client = Client(
            vertexai=True,
            project=config.project,
            location=config.location,
            credentials=credentials,
            http_options=types.HttpOptions(
                base_url=config.base_url,
                timeout=_milliseconds(config.timeout_seconds),
                retry_options=types.HttpRetryOptions(attempts=1),  # ours, within the deadline
            ),
        )

    @property
    def name(self) -> str:
        return NAME

    async def weekly_insight(self, features: WeekFeatures) -> Insight:
        prompt = insight_prompt(features)
        return await self._ask("weekly_insight", prompt, INSIGHT_RESPONSE_SCHEMA, _insight)

    async def schedule_suggestion(self, features: WeekFeatures) -> Suggestion:
        prompt = suggestion_prompt(features)
        return await self._ask(
            "schedule_suggestion", prompt, SUGGESTION_RESPONSE_SCHEMA, _suggestion
        )

    async def aclose(self) -> None:
        await self._client.aio.aclose()

    async def _ask(
        self,
        feature: str,
        prompt: Prompt,
        schema: types.Schema,
        parse: Callable[[dict[str, Any]], T],
    ) -> T:
        started = self._clock()
        outcome = "ok"
        try:
            response = await self._generate(feature, prompt, schema)
            self._count_usage(feature, response.usage_metadata)
            return parse(_answer_object(response))
        except Exception as error:
            outcome = _outcome(error)
            log.warning("ai.vertex.failed", extra={"feature": feature, "error": _name(error)})
            raise
        finally:
            LATENCY.labels(NAME, feature, outcome).observe(self._clock() - started)

    async def _generate(
        self, feature: str, prompt: Prompt, schema: types.Schema
    ) -> types.GenerateContentResponse:
        deadline = self._clock() + self._config.timeout_seconds
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - self._clock()
            try:
                async with asyncio.timeout(remaining):
                    return await self._client.aio.models.generate_content(
                        model=self._config.model,
                        contents=prompt.user,
                        config=generation_config(prompt, schema, remaining),
                    )
            except _TIMEOUTS as error:
                raise ProviderTimeout() from error
            except (errors.APIError, *_CONNECTION) as error:
                wait, give_up = self._after(error, attempt)
            except (auth_exceptions.GoogleAuthError, ValueError) as error:
                # No credentials, or a body that is not the API's JSON: asking again won't help.
                raise ProviderUnavailable(_name(error)) from error
            if attempt >= self._config.max_attempts or self._clock() + wait >= deadline:
                raise give_up
            log.info("ai.vertex.retrying", extra={"feature": feature, "attempt": attempt})
            await self._sleep(wait)

    def _after(self, error: Exception, attempt: int) -> tuple[float, Exception]:
        """How long to wait before the next attempt, and what to raise if there is none."""
        backoff = self._config.backoff_seconds * 2 ** (attempt - 1)
        if not isinstance(error, errors.APIError) or error.code >= 500:
            return backoff, _chained(ProviderUnavailable(_name(error)), error)
        if error.code == 429:
            wait = _retry_after(error)
            wait = backoff if wait is None else wait
            return wait, _chained(ProviderRateLimited(math.ceil(wait)), error)
        return math.inf, _chained(ProviderUnavailable(f"{error.code} {error.status}"), error)

    def _count_usage(
        self, feature: str, usage: types.GenerateContentResponseUsageMetadata | None
    ) -> None:
        if usage is None:
            return
        sent = usage.prompt_token_count or 0
        written = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
        TOKENS.labels(NAME, feature, "input").inc(sent)
        TOKENS.labels(NAME, feature, "output").inc(written)
        cost = sent * self._config.usd_per_million_input_tokens
        cost += written * self._config.usd_per_million_output_tokens
        COST.labels(NAME, feature).inc(cost / 1_000_000)


def generation_config(
    prompt: Prompt, schema: types.Schema, seconds: float
) -> types.GenerateContentConfig:
    """What every call asks for (also used to re-record the eval's answers)."""
    return types.GenerateContentConfig(
        system_instruction=prompt.system,
        response_mime_type="application/json",
        response_schema=schema,
        candidate_count=1,
        temperature=0.4,
        http_options=types.HttpOptions(timeout=_milliseconds(seconds)),
    )


def _answer_object(response: types.GenerateContentResponse) -> dict[str, Any]:
    """The answer's JSON object, or `InvalidOutput` saying why there is none."""
    if not response.candidates:
        blocked = response.prompt_feedback and response.prompt_feedback.block_reason
        raise InvalidOutput(("prompt_blocked" if blocked else "no_candidates",))
    candidate = response.candidates[0]
    reason = candidate.finish_reason.value if candidate.finish_reason else "STOP"
    if reason in _BLOCKED:
        raise InvalidOutput(("safety_blocked",))
    if reason == "MAX_TOKENS":
        raise InvalidOutput(("truncated",))
    parts = candidate.content.parts if candidate.content and candidate.content.parts else []
    text = "".join(p.text for p in parts if p.text and not p.thought)
    if not text.strip():
        raise InvalidOutput(("empty_answer",))
    try:
        answer = json.loads(text)
    except ValueError:
        raise InvalidOutput(("not_json",)) from None
    if not isinstance(answer, dict):
        raise InvalidOutput(("wrong_schema",))
    return answer


def _insight(answer: dict[str, Any]) -> Insight:
    text, numbers = answer.get("text"), answer.get("numbers")
    if (
        answer.keys() != {"text", "numbers"}
        or not isinstance(text, str)
        or not isinstance(numbers, list)
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers)
    ):
        raise InvalidOutput(("wrong_schema",))
    return Insight(text=text, numbers=tuple(numbers))


def _suggestion(answer: dict[str, Any]) -> Suggestion:
    days, reason = answer.get("days"), answer.get("reason")
    start, end = _clock_time(answer.get("start_local")), _clock_time(answer.get("end_local"))
    known = {d.value for d in Weekday}
    if (
        answer.keys() != {"days", "start_local", "end_local", "reason"}
        or not isinstance(days, list)
        or not all(isinstance(d, str) and d in known for d in days)
        or not isinstance(reason, str)
        or start is None
        or end is None
    ):
        raise InvalidOutput(("wrong_schema",))
    return Suggestion(tuple(Weekday(d) for d in days), start, end, reason)


def _clock_time(value: object) -> clock_time | None:
    match = _HH_MM.fullmatch(value) if isinstance(value, str) else None
    return clock_time(int(match[1]), int(match[2])) if match else None


def _retry_after(error: errors.APIError) -> float | None:
    """Seconds from the Retry-After header, else from a `google.rpc.RetryInfo` detail."""
    headers = getattr(error.response, "headers", None) or {}
    value = headers.get("retry-after")
    if value is not None and value.strip().replace(".", "", 1).isdigit():
        return float(value)
    body = error.details if isinstance(error.details, dict) else {}
    details = body.get("error", {}).get("details", [])
    for detail in details if isinstance(details, list) else []:
        delay = _RETRY_DELAY.fullmatch(str(detail.get("retryDelay", "")))
        if delay:
            return float(delay[1])
    return None


def _outcome(error: Exception) -> str:
    match error:
        case InvalidOutput():
            return "invalid_output"
        case ProviderTimeout():
            return "timeout"
        case ProviderRateLimited():
            return "rate_limited"
        case _:
            return "unavailable"


def _chained(raised: Exception, cause: Exception) -> Exception:
    raised.__cause__ = cause
    return raised


def _name(error: BaseException) -> str:
    return type(error.__cause__ or error).__name__


def _milliseconds(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def _string(description: str, max_length: int | None = None) -> types.Schema:
    return types.Schema(type=types.Type.STRING, description=description, max_length=max_length)


INSIGHT_RESPONSE_SCHEMA = types.Schema(
    type=types.Type.OBJECT,
    properties={
        "text": _string("2-3 plain sentences", MAX_INSIGHT_CHARS),
        "numbers": types.Schema(
            type=types.Type.ARRAY,
            items=types.Schema(type=types.Type.INTEGER),
            description="every number the text uses",
        ),
    },
    required=["text", "numbers"],
    property_ordering=["text", "numbers"],
)
SUGGESTION_RESPONSE_SCHEMA = types.Schema(
    type=types.Type.OBJECT,
    properties={
        "days": types.Schema(
            type=types.Type.ARRAY,
            items=types.Schema(type=types.Type.STRING, enum=[d.value for d in Weekday]),
            min_items=1,
            max_items=7,
        ),
        "start_local": _string("local time HH:MM, 24-hour"),
        "end_local": _string("local time HH:MM, 24-hour, at most 12 hours after the start"),
        "reason": _string("one sentence", MAX_REASON_CHARS),
    },
    required=["days", "start_local", "end_local", "reason"],
    property_ordering=["days", "start_local", "end_local", "reason"],
)
