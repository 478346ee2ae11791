"""Wiring of the AI features (ADR 0021, 0022): settings → the providers, the results' use
case, the `ai` consumer and the weekly job's tasks. Part of the composition root
(`app/bootstrap.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from ai.hooks import BATCH_TASK, WEEKLY_TASK, AiHooks
from ai.insights import AiResults
from ai.local import LocalProvider
from ai.terms import LOCAL_TERMS, VERTEX_TERMS
from app.settings import AiProvider, Settings
from datastore.postgres.ai_audience import PostgresAiAudience
from datastore.postgres.ai_budgets import PostgresBudgets
from datastore.postgres.ai_consents import PostgresConsentLedger
from domain.ai.budgets import TokenBudget
from domain.ai.consent import ProviderTerms
from domain.ai.ports import InsightProvider
from domain.common import Clock
from domain.tasks import TaskScheduler
from domain.unit_of_work import UnitOfWorkFactory
from jobs.registry import TaskHandlers

AI_CONSUMER = "ai"
"""The subscription of the AI hooks (Pub/Sub push to /internal/pubsub/ai; terraform/ai.tf)."""


@dataclass
class Ai:
    results: AiResults
    hooks: AiHooks
    terms: ProviderTerms
    """What the app shows before asking (the local provider's when no hosted one runs)."""

    async def aclose(self) -> None:
        close = getattr(self.results.hosted, "aclose", None)
        if close is not None:
            await close()

    def register(self, handlers: TaskHandlers) -> None:
        handlers.register(WEEKLY_TASK, self.hooks.weekly)
        handlers.register(BATCH_TASK, self.hooks.weekly_batch)


Hosted = tuple[InsightProvider, ProviderTerms]
"""A third-party provider and the text a person agrees to before it is asked."""


def hosted_provider(settings: Settings) -> Hosted | None:
    match settings.ai_provider:
        case AiProvider.LOCAL:
            return None
        case AiProvider.VERTEX:
            # Imported only here: google-genai is loaded where the hosted model is used.
            from ai.vertex import VertexConfig, VertexInsightProvider

            assert settings.firebase_project_id  # check() guarantees it
            config = VertexConfig(
                project=settings.firebase_project_id,
                location=settings.ai_location,
                model=settings.ai_model,
                timeout_seconds=settings.ai_timeout_seconds,
                base_url=settings.ai_base_url,
            )
            return VertexInsightProvider(config), VERTEX_TERMS


def build_ai(
    settings: Settings,
    engine: AsyncEngine,
    unit_of_work: UnitOfWorkFactory,
    scheduler: TaskScheduler,
    clock: Clock,
    *,
    hosted: Hosted | None = None,
) -> Ai:
    """`hosted` replaces the provider the settings name (tests)."""
    chosen = hosted if hosted is not None else hosted_provider(settings)
    provider, terms = (None, LOCAL_TERMS) if chosen is None else chosen
    results = AiResults(
        hosted=provider,
        terms=None if provider is None else terms,
        local=LocalProvider(),
        consents=PostgresConsentLedger(engine),
        budgets=PostgresBudgets(engine),
        token_budget=TokenBudget(settings.ai_daily_tokens_soft, settings.ai_daily_tokens_hard),
        unit_of_work=unit_of_work,
        clock=clock,
    )
    hooks = AiHooks(results, unit_of_work, PostgresAiAudience(engine), scheduler, clock)
    return Ai(results, hooks, terms)
