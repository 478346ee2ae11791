"""A person's AI results (ADR 0021): the weekly insight (one per person and week, whatever the
redeliveries) and schedule suggestions (within the day's cap, the same one never twice a
day). The hosted provider is asked only with the person's current consent for the feature and
within its token budget, and its answer is used only if it validates; otherwise the local
provider's. Every refusal is counted by reason, every call by provider and outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, time

from prometheus_client import Counter

from domain.ai.budgets import AiFeature, Budgets, TokenBudget
from domain.ai.consent import ConsentLedger, ProviderTerms, current
from domain.ai.features import WeekFeatures
from domain.ai.insights import AiInsight, Refusal, SuggestedSchedule
from domain.ai.ports import Insight, InsightProvider, ProviderError, Suggestion
from domain.ai.prompt import insight_prompt, suggestion_prompt
from domain.ai.use_cases import store_insight
from domain.ai.validation import validate_insight, validate_suggestion
from domain.common import Clock, new_id
from domain.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

CALLS = Counter("focus_ai_calls", "Provider calls", ["provider", "feature", "outcome"])
REFUSALS = Counter(
    "focus_ai_refusals",
    "Results the hosted provider did not write, by reason (`none`: no hosted provider runs)",
    ["provider", "feature", "reason"],
)
TOKENS = Counter("focus_ai_tokens_reserved", "Tokens reserved for calls", ["provider"])
MIN_SESSIONS_TO_SUGGEST = 3
"""Completed sessions in a week before its best window is worth a schedule."""
ANSWER_TOKENS = 400
"""Reserved for the answer on top of the prompt's estimate."""

Answer = Insight | Suggestion


def estimated_tokens(features: WeekFeatures, feature: AiFeature) -> int:
    """A call's token cost, over-estimated (about four characters a token)."""
    render = insight_prompt if feature is AiFeature.WEEKLY_INSIGHT else suggestion_prompt
    prompt = render(features)
    return (len(prompt.system) + len(prompt.user)) // 3 + ANSWER_TOKENS


def covered(features: WeekFeatures) -> bool:
    """Whether an enabled schedule already blocks the week's best window on all its days (a
    suggestion would add nothing); True when the week has no best window to protect."""
    best = features.best_window
    if best is None:
        return True
    start, end = best.start_hour * 60, best.end_hour * 60
    for w in features.schedule_windows:
        w_start, w_end = w.start_hour * 60 + w.start_minute, w.end_hour * 60 + w.end_minute
        same_day = w_start < w_end and w_start <= start and end <= w_end
        overnight = w_end <= w_start and (start >= w_start or end <= w_end)
        if set(best.days) <= set(w.days) and (same_day or overnight):
            return True
    return False


@dataclass
class AiResults:
    hosted: InsightProvider | None
    """The third-party provider (None on the embedded default)."""
    terms: ProviderTerms | None
    local: InsightProvider
    consents: ConsentLedger
    budgets: Budgets
    token_budget: TokenBudget
    unit_of_work: UnitOfWorkFactory
    clock: Clock

    async def weekly_insight(self, uid: str, features: WeekFeatures) -> AiInsight | None:
        """The person's insight for the week of `features` (the stored one if made before);
        None when their cap is reached and none is live (another delivery is making it, or
        they dismissed it)."""
        feature, week = AiFeature.WEEKLY_INSIGHT, features.week_start
        if (made := await self._find(uid, feature, week)) is not None:
            return made
        if not await self.budgets.take_result(uid, feature, week):
            REFUSALS.labels(self._hosted_name, feature.value, Refusal.USER_CAP.value).inc()
            return await self._find(uid, feature, week)
        provider, answer = await self._write(uid, features, feature)
        assert isinstance(answer, Insight)
        return await self._store(uid, feature, week, provider, answer)

    async def suggestion_to_make(
        self, uow: UnitOfWork, uid: str, features: WeekFeatures, day: date
    ) -> Suggestion | None:
        """The schedule worth suggesting, read in the caller's unit of work: the local
        provider's protection of the week's best window, once the week shows one (three
        completed sessions); None when a schedule covers it already, the person has not
        answered the week's last suggestion yet, or the same one was made that day."""
        if features.sessions_completed < MIN_SESSIONS_TO_SUGGEST or covered(features):
            return None
        candidate = await self.local.schedule_suggestion(features)
        key = _suggested(candidate).key
        if await uow.insights.suggestion_blocked(uid, features.week_start, day, key):
            return None
        return candidate

    @property
    def _hosted_name(self) -> str:
        return "none" if self.hosted is None else self.hosted.name

    @property
    def writes_locally(self) -> bool:
        """No third-party provider: a result is made in one transaction, no call between."""
        return self.hosted is None

    async def local_suggestion(
        self, uow: UnitOfWork, uid: str, day: date, candidate: Suggestion
    ) -> AiInsight | None:
        """`candidate` (from `suggestion_to_make`) stored in the caller's unit of work with
        the day's cap taken in it, when no third-party provider runs; the caller commits."""
        feature = AiFeature.SCHEDULE_SUGGESTION
        if not await uow.ai_caps.take(uid, feature, day):
            REFUSALS.labels(self._hosted_name, feature.value, Refusal.USER_CAP.value).inc()
            return None
        CALLS.labels(self.local.name, feature.value, "ok").inc()
        now = self.clock()
        insight = AiInsight(new_id(), uid, feature, day, self.local.name, candidate.reason, (),
                            _suggested(candidate), None, 0, now, now)  # fmt: skip
        return await store_insight(uow, insight)

    async def schedule_suggestion(
        self, uid: str, features: WeekFeatures, day: date, *, checked: bool = False
    ) -> AiInsight | None:
        """A schedule suggestion for `day`, when `suggestion_to_make` finds one worth making
        (`checked`: the caller found so already) and the day's cap allows; else None."""
        feature = AiFeature.SCHEDULE_SUGGESTION
        if not checked:
            async with self.unit_of_work() as uow:
                if await self.suggestion_to_make(uow, uid, features, day) is None:
                    return None
        if not await self.budgets.take_result(uid, feature, day):
            REFUSALS.labels(self._hosted_name, feature.value, Refusal.USER_CAP.value).inc()
            return None
        provider, answer = await self._write(uid, features, feature)
        assert isinstance(answer, Suggestion)
        suggested = _suggested(answer)
        now = self.clock()
        insight = AiInsight(new_id(), uid, feature, day, provider, answer.reason, (), suggested,
                            None, 0, now, now)  # fmt: skip
        async with self.unit_of_work() as uow:
            # Checked again under the person's lock: another delivery may have stored one
            # while the provider wrote this.
            await uow.lock_user(uid)
            if await uow.insights.suggestion_blocked(uid, features.week_start, day, suggested.key):
                return None
            stored = await store_insight(uow, insight)
            await uow.commit()
        return stored

    async def _find(
        self, uid: str, feature: AiFeature, period: date, key: str = ""
    ) -> AiInsight | None:
        async with self.unit_of_work() as uow:
            return await uow.insights.find(uid, feature, period, key)

    async def _store(
        self, uid: str, feature: AiFeature, period: date, provider: str, answer: Insight
    ) -> AiInsight | None:
        now = self.clock()
        insight = AiInsight(new_id(), uid, feature, period, provider, answer.text,
                            answer.numbers, None, None, 0, now, now)  # fmt: skip
        async with self.unit_of_work() as uow:
            stored = await store_insight(uow, insight)
            await uow.commit()
        if stored is None:  # made by another delivery meanwhile
            return await self._find(uid, feature, period)
        return stored

    async def _write(
        self, uid: str, features: WeekFeatures, feature: AiFeature
    ) -> tuple[str, Answer]:
        refusal = await self._refusal(uid, features, feature)
        if refusal is None and self.hosted is not None:
            try:
                answer = await _ask(self.hosted, features, feature)
            except ProviderError as error:
                CALLS.labels(self.hosted.name, feature.value, "error").inc()
                log.info("ai.provider_failed", extra={"error": type(error).__name__})
                refusal = Refusal.PROVIDER_ERROR
            else:
                if _violations(answer, features):
                    CALLS.labels(self.hosted.name, feature.value, "invalid").inc()
                    refusal = Refusal.INVALID_OUTPUT
                else:
                    CALLS.labels(self.hosted.name, feature.value, "ok").inc()
                    return self.hosted.name, answer
        if refusal is not None:
            REFUSALS.labels(self._hosted_name, feature.value, refusal.value).inc()
        CALLS.labels(self.local.name, feature.value, "ok").inc()
        return self.local.name, await _ask(self.local, features, feature)

    async def _refusal(
        self, uid: str, features: WeekFeatures, feature: AiFeature
    ) -> Refusal | None:
        if self.hosted is None or self.terms is None:
            return None  # the local provider is the only one: nothing is refused
        entries = await self.consents.entries(uid)
        if not current(entries, feature, self.terms):
            return Refusal.NO_CONSENT
        tokens = estimated_tokens(features, feature)
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


async def _ask(provider: InsightProvider, features: WeekFeatures, feature: AiFeature) -> Answer:
    if feature is AiFeature.WEEKLY_INSIGHT:
        return await provider.weekly_insight(features)
    return await provider.schedule_suggestion(features)


def _violations(answer: Answer, features: WeekFeatures) -> list[str]:
    if isinstance(answer, Insight):
        return list(validate_insight(answer, features))
    return list(validate_suggestion(answer, features))


def _suggested(suggestion: Suggestion) -> SuggestedSchedule:
    return SuggestedSchedule(suggestion.days, _minute(suggestion.start_local),
                             _minute(suggestion.end_local))  # fmt: skip


def _minute(t: time) -> time:
    return time(t.hour, t.minute)
