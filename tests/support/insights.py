"""AI results for API tests, made the way the `ai` consumer and the weekly job make them (the
app's own `AiResults`, local provider), from a week with a clear best window: mornings 9-11
on weekdays."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from starlette.testclient import TestClient

from ai.local import LocalProvider
from app.bootstrap import Container, build, build_app
from app.settings import Settings
from domain.ai.consent import ProviderTerms
from domain.ai.features import WeekFeatures, features_from_grid
from domain.ai.ports import Insight, Suggestion
from domain.common import Clock
from tests.conftest import ApiUser

WEEK = date(2026, 3, 2)
"""A Monday."""


def mornings(week_start: date = WEEK) -> WeekFeatures:
    """60 minutes at 9:00 and 10:00 on each weekday of the week."""
    grid = tuple(
        tuple(60 if day < 5 and hour in (9, 10) else 0 for hour in range(24)) for day in range(7)
    )
    return features_from_grid(
        week_start=week_start, grid=grid, total_minutes=600, sessions_started=6,
        sessions_completed=5, sessions_abandoned=1, schedule_windows=(),
    )  # fmt: skip


def _signed_up(client: TestClient, user: ApiUser) -> None:
    assert client.get("/v1/me", headers=user.headers).status_code == 200


def a_suggestion(
    client: TestClient, container: Container, user: ApiUser, day: date = WEEK
) -> dict[str, Any]:
    """A schedule suggestion of the user's (as `GET /v1/insights/{id}` answers it)."""
    _signed_up(client, user)
    made = client.portal.call(  # type: ignore[union-attr]
        container.ai.results.schedule_suggestion, user.uid, mornings(), day
    )
    assert made is not None
    return _read(client, user, str(made.id))


def a_weekly_insight(
    client: TestClient, container: Container, user: ApiUser, week: date = WEEK
) -> dict[str, Any]:
    """The user's weekly insight of `week` (as `GET /v1/insights/{id}` answers it)."""
    _signed_up(client, user)
    made = client.portal.call(  # type: ignore[union-attr]
        container.ai.results.weekly_insight, user.uid, mornings(week)
    )
    assert made is not None
    return _read(client, user, str(made.id))


def _read(client: TestClient, user: ApiUser, insight_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/insights/{insight_id}", headers=user.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def later(day: date, days: int) -> date:
    return day + timedelta(days=days)


class EchoHosted:
    """A hosted provider as the port sees it: writes the local provider's answers under its
    own name (valid by construction), counting calls."""

    name = "echo-hosted"

    def __init__(self) -> None:
        self.calls = 0

    async def weekly_insight(self, features: WeekFeatures) -> Insight:
        self.calls += 1
        return await LocalProvider().weekly_insight(features)

    async def schedule_suggestion(self, features: WeekFeatures) -> Suggestion:
        self.calls += 1
        return await LocalProvider().schedule_suggestion(features)


ECHO_TERMS = ProviderTerms("echo-hosted", "Echo AI", 2, "We send your week's numbers to Echo.")


def hosted_app(settings: Settings, database_url: str, clock: Clock) -> Iterator[TestClient]:
    """The app with a third-party provider (`EchoHosted`), whose consent the app asks for."""
    container = build(settings, database_url, clock=clock, hosted_ai=(EchoHosted(), ECHO_TERMS))
    with TestClient(build_app(container), raise_server_exceptions=False) as client:
        yield client
