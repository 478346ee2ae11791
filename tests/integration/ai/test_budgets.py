"""AI budgets on Postgres under bursts of concurrent events: a person's cap per feature and
period is never passed, nor a provider's hard daily token limit, however many ask at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.ai_budgets import PostgresBudgets
from domain.ai.budgets import CAPS, AiFeature, TokenBudget

pytestmark = pytest.mark.anyio
MONDAY = date(2026, 11, 30)
AT_ONCE = 24


async def person(engine: AsyncEngine) -> str:
    uid = f"ai-{uuid.uuid4().hex[:16]}"
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO users (uid, created_at, updated_at) VALUES (:uid, now(), now())"),
            {"uid": uid},
        )
    return uid


@pytest.mark.parametrize("feature", list(AiFeature))
async def test_a_burst_of_events_gets_exactly_the_cap(
    engine: AsyncEngine, feature: AiFeature
) -> None:
    budgets, uid = PostgresBudgets(engine), await person(engine)

    taken = await asyncio.gather(
        *(budgets.take_result(uid, feature, MONDAY) for _ in range(AT_ONCE))
    )

    assert sum(taken) == CAPS[feature].count


async def test_the_cap_is_per_period_and_per_person(engine: AsyncEngine) -> None:
    budgets, ann, ben = PostgresBudgets(engine), await person(engine), await person(engine)
    insight = AiFeature.WEEKLY_INSIGHT

    assert await budgets.take_result(ann, insight, MONDAY)
    assert not await budgets.take_result(ann, insight, MONDAY + timedelta(days=6))  # same week
    assert await budgets.take_result(ann, insight, MONDAY + timedelta(days=7))  # the next
    assert await budgets.take_result(ben, insight, MONDAY)
    assert not await budgets.take_result("no-such-person", insight, MONDAY)


async def test_a_providers_hard_limit_is_never_passed_by_a_burst(engine: AsyncEngine) -> None:
    budgets = PostgresBudgets(engine)
    provider = f"test-{uuid.uuid4().hex[:8]}"
    budget = TokenBudget(soft=600, hard=1_000)

    totals = await asyncio.gather(
        *(budgets.take_tokens(provider, MONDAY, 150, budget) for _ in range(AT_ONCE))
    )

    granted = sorted(t for t in totals if t is not None)
    assert granted == [150 * n for n in range(1, 7)]  # 6 of 150 = 900; a 7th would pass 1,000
    assert await budgets.take_tokens(provider, MONDAY, 100, budget) == 1_000
    assert await budgets.take_tokens(provider, MONDAY, 1, budget) is None
    assert await budgets.take_tokens(provider, MONDAY + timedelta(days=1), 1, budget) == 1
    assert await budgets.take_tokens(provider, MONDAY, 2_000, budget) is None


def test_a_token_budget_needs_a_soft_limit_under_its_hard_one() -> None:
    with pytest.raises(ValueError, match="soft <= hard"):
        TokenBudget(soft=2_000, hard=1_000)
