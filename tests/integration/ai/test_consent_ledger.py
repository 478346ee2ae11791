"""The AI consent ledger on Postgres: grants and revocations are appended and read back in
order; the person's ledger goes with their account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.ai_consents import PostgresConsentLedger
from domain.ai.budgets import AiFeature
from domain.ai.consent import ConsentEntry, ProviderTerms, current
from tests.integration.ai.test_budgets import person

pytestmark = pytest.mark.anyio
GEMINI = ProviderTerms("vertex-gemini", "Google Gemini (Vertex AI)", 1, "We send …")
T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


async def test_a_revocation_is_recorded_after_the_grant_and_takes_effect(
    engine: AsyncEngine,
) -> None:
    ledger, uid, other = PostgresConsentLedger(engine), await person(engine), await person(engine)
    grant = ConsentEntry(AiFeature.WEEKLY_INSIGHT, "vertex-gemini", 1, True, T0)
    revoke = ConsentEntry(AiFeature.WEEKLY_INSIGHT, "vertex-gemini", 1, False,
                          T0 + timedelta(days=3))  # fmt: skip

    await ledger.record(uid, grant)
    granted = current(await ledger.entries(uid), AiFeature.WEEKLY_INSIGHT, GEMINI)
    await ledger.record(uid, revoke)
    after = await ledger.entries(uid)

    assert granted
    assert list(after) == [grant, revoke]  # both kept: the ledger is never edited
    assert not current(after, AiFeature.WEEKLY_INSIGHT, GEMINI)
    assert await ledger.entries(other) == []


async def test_the_ledger_goes_with_the_account(engine: AsyncEngine) -> None:
    ledger, uid = PostgresConsentLedger(engine), await person(engine)
    await ledger.record(uid, ConsentEntry(AiFeature.SCHEDULE_SUGGESTION, "vertex-gemini", 1,
                                          True, T0))  # fmt: skip

    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM users WHERE uid = :uid"), {"uid": uid})

    assert await ledger.entries(uid) == []
