"""The weekly insight of one person (ADR 0021): made once per person and week, whatever the
redeliveries; the hosted provider only with the person's current consent and within its token
budget, its answer only if it validates; otherwise the local provider's. Every refusal is
counted by reason, every call by provider and outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from prometheus_client import Counter

from domain.ai.budgets import AiFeature, Budgets, TokenBudget
from domain.ai.consent import ConsentLedger, ProviderTerms, current
from domain.ai.features import WeekFeatures
from domain.ai.insights import InsightStore, Refusal, StoredInsight
from domain.ai.ports import Insight, InsightProvider, ProviderError
from domain.ai.prompt import insight_prompt
from domain.ai.validation import validate_insight
from domain.common import Clock

log = logging.getLogger(__name__)

CALLS = Counter("focus_ai_calls", "Provider calls", ["provider", "feature", "outcome"])
REFUSALS = Counter("focus_ai_refusals", "Hosted answers not used, by reason", ["feature", "reason"])
TOKENS = Counter("focus_ai_tokens_reserved", "Tokens reserved for calls", ["provider"])
ANSWER_TOKENS = 400
"""Reserved for the answer on top of the prompt's estimate."""


def estimated_tokens(features: WeekFeatures) -> int:
    """A call's token cost, over-estimated (about four characters a token)."""
    prompt = insight_prompt(features)
    return (len(prompt.system) + len(prompt.user)) // 3 + ANSWER_TOKENS


@dataclass
class WeeklyInsights:
    hosted: InsightProvider | None
    """The third-party provider (None on the embedded default)."""
    terms: ProviderTerms | None
    local: InsightProvider
    consents: ConsentLedger
    budgets: Budgets
    token_budget: TokenBudget
    store: InsightStore
    clock: Clock

    async def make(self, uid: str, features: WeekFeatures) -> StoredInsight | None:
        """The person's insight for the week of `features` (the stored one if made before);
        None when their cap is reached and none is stored yet (another delivery making it)."""
        feature, week = AiFeature.WEEKLY_INSIGHT, features.week_start
        made = await self.store.get(uid, feature, week)
        if made is not None:
            return made
        if not await self.budgets.take_result(uid, feature, week):
            REFUSALS.labels(feature.value, Refusal.USER_CAP.value).inc()
            return await self.store.get(uid, feature, week)  # made by another delivery
        provider, insight = await self._write(uid, features)
        stored = StoredInsight(uid, feature, week, provider, insight.text, insight.numbers,
                               self.clock())  # fmt: skip
        return await self.store.add(stored)

    async def _write(self, uid: str, features: WeekFeatures) -> tuple[str, Insight]:
        refusal = await self._refusal(uid, features)
        if refusal is None and self.hosted is not None:
            try:
                insight = await self.hosted.weekly_insight(features)
            except ProviderError as error:
                CALLS.labels(self.hosted.name, "weekly_insight", "error").inc()
                log.info("ai.provider_failed", extra={"error": type(error).__name__})
                refusal = Refusal.PROVIDER_ERROR
            else:
                if validate_insight(insight, features):
                    CALLS.labels(self.hosted.name, "weekly_insight", "invalid").inc()
                    refusal = Refusal.INVALID_OUTPUT
                else:
                    CALLS.labels(self.hosted.name, "weekly_insight", "ok").inc()
                    return self.hosted.name, insight
        if refusal is not None:
            REFUSALS.labels(AiFeature.WEEKLY_INSIGHT.value, refusal.value).inc()
        CALLS.labels(self.local.name, "weekly_insight", "ok").inc()
        return self.local.name, await self.local.weekly_insight(features)

    async def _refusal(self, uid: str, features: WeekFeatures) -> Refusal | None:
        if self.hosted is None or self.terms is None:
            return None  # the local provider is the only one: nothing is refused
        entries = await self.consents.entries(uid)
        if not current(entries, AiFeature.WEEKLY_INSIGHT, self.terms):
            return Refusal.NO_CONSENT
        tokens = estimated_tokens(features)
        total = await self.budgets.take_tokens(
            self.hosted.name, self.clock().date(), tokens, self.token_budget
        )
        if total is None:
            return Refusal.OVER_BUDGET
        TOKENS.labels(self.hosted.name).inc(tokens)
        if total > self.token_budget.soft:
            log.warning("ai.token_budget_soft_limit", extra={"provider": self.hosted.name,
                                                             "tokens": total})  # fmt: skip
        return None
