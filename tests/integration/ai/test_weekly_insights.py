"""The weekly insight on Postgres (results, consent ledger, budgets) with hosted providers
that answer well, invent a number, or fail: the hosted answer is used only with current
consent, within the token budget and when it validates; otherwise the local provider's is
stored; a redelivered event makes no second insight; many events at once make exactly one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from ai.insights import AiResults
from ai.local import LocalProvider
from datastore.postgres.ai_budgets import PostgresBudgets
from datastore.postgres.ai_consents import PostgresConsentLedger
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.ai.budgets import AiFeature, TokenBudget
from domain.ai.consent import ConsentEntry, ProviderTerms
from domain.ai.features import WeekFeatures, week_features
from domain.ai.ports import Insight, ProviderUnavailable, Suggestion
from tests.integration.ai.test_budgets import person
from tests.unit.ai.eval_set import user_weeks

pytestmark = pytest.mark.anyio
TERMS = ProviderTerms("fake-hosted", "A hosted model", 1, "We send your week's numbers …")
NOW = datetime(2026, 12, 3, 9, tzinfo=UTC)
ROOMY = TokenBudget(soft=1_000_000, hard=2_000_000)


class Hosted:
    """A hosted provider as the port sees it: it writes from the features, or misbehaves."""

    name = "fake-hosted"

    def __init__(self, behaviour: str) -> None:
        self.behaviour, self.calls = behaviour, 0

    async def weekly_insight(self, features: WeekFeatures) -> Insight:
        self.calls += 1
        if self.behaviour == "down":
            raise ProviderUnavailable("503")
        if self.behaviour == "invents":
            return Insight("You focused 987654 minutes.", (987654,))
        return Insight(f"You focused {features.total_minutes} minutes.", (features.total_minutes,))

    async def schedule_suggestion(self, features: WeekFeatures) -> Suggestion:
        raise NotImplementedError


def a_week() -> WeekFeatures:
    week = next(w for w in user_weeks() if w.kind == "office_hours")
    return week_features(week.sessions, week.schedules, week.week_start)


async def service(engine: AsyncEngine, hosted: Any, budget: TokenBudget = ROOMY) -> AiResults:
    def unit_of_work(*, origin_installation_id: str | None = None) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(engine)

    return AiResults(hosted, TERMS, LocalProvider(), PostgresConsentLedger(engine),
                     PostgresBudgets(engine), budget, unit_of_work, lambda: NOW)  # fmt: skip


async def consenting(engine: AsyncEngine) -> str:
    uid = await person(engine)
    grant = ConsentEntry(AiFeature.WEEKLY_INSIGHT, TERMS.provider, 1, True, NOW)
    await PostgresConsentLedger(engine).record(uid, grant)
    return uid


async def test_with_consent_a_valid_hosted_answer_is_stored_once(engine: AsyncEngine) -> None:
    hosted, features, uid = Hosted("good"), a_week(), await consenting(engine)
    insights = await service(engine, hosted)

    first = await insights.weekly_insight(uid, features)
    again = await insights.weekly_insight(uid, features)  # the event delivered a second time

    assert first is not None
    assert first.provider == "fake-hosted"
    assert first.text == f"You focused {features.total_minutes} minutes."
    assert again == first
    assert hosted.calls == 1


@pytest.mark.parametrize(
    ("behaviour", "consent", "budget"),
    [("good", False, ROOMY), ("invents", True, ROOMY), ("down", True, ROOMY),
     ("good", True, TokenBudget(soft=10, hard=10))],
    ids=["no consent", "invented number", "provider down", "over the token budget"],
)  # fmt: skip
async def test_otherwise_the_local_providers_insight_is_stored(
    engine: AsyncEngine, behaviour: str, consent: bool, budget: TokenBudget
) -> None:
    hosted, features = Hosted(behaviour), a_week()
    uid = await consenting(engine) if consent else await person(engine)
    local = await LocalProvider().weekly_insight(features)
    reason = {"good": "no_consent" if not consent else "token_budget",
              "invents": "invalid_output", "down": "provider_error"}[behaviour]  # fmt: skip
    before = _refusals(reason)

    stored = await (await service(engine, hosted, budget)).weekly_insight(uid, features)

    assert stored is not None
    assert (stored.provider, stored.text) == ("local", local.text)
    assert hosted.calls == (1 if behaviour in ("invents", "down") else 0)
    assert _refusals(reason) == before + 1  # counted once, by its reason


def _refusals(reason: str) -> float:
    labels = {"provider": "fake-hosted", "feature": "weekly_insight", "reason": reason}
    return REGISTRY.get_sample_value("focus_ai_refusals_total", labels) or 0.0


async def test_a_revocation_takes_effect_for_the_next_event(engine: AsyncEngine) -> None:
    hosted, uid = Hosted("good"), await consenting(engine)
    revoke = ConsentEntry(AiFeature.WEEKLY_INSIGHT, TERMS.provider, 1, False, NOW)
    await PostgresConsentLedger(engine).record(uid, revoke)

    stored = await (await service(engine, hosted)).weekly_insight(uid, a_week())

    assert stored is not None
    assert stored.provider == "local"
    assert hosted.calls == 0


async def test_many_events_at_once_make_one_insight_and_spend_one_result(
    engine: AsyncEngine,
) -> None:
    hosted, features, uid = Hosted("good"), a_week(), await consenting(engine)
    insights = await service(engine, hosted)

    made = await asyncio.gather(*(insights.weekly_insight(uid, features) for _ in range(12)))
    async with PostgresUnitOfWork(engine) as uow:
        stored = await uow.insights.find(uid, AiFeature.WEEKLY_INSIGHT, features.week_start)

    assert stored is not None
    assert {m for m in made if m is not None} == {stored}
    assert hosted.calls == 1  # the cap (one a week) let one event through to the provider
