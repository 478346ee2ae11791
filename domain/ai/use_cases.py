"""Use cases of a person's AI results: store one (from the consumer or the weekly job), list,
read, dismiss, and accept a suggestion, which creates its schedule through the schedules' own
use case in the same transaction.

Every write takes the user's lock first, so two devices dismissing or accepting the same
suggestion at once are serialised: one schedule, whatever the race.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from domain.ai.budgets import AiFeature
from domain.ai.consent import ConsentEntry, ConsentLedger, ProviderTerms, current
from domain.ai.insights import AiInsight
from domain.common import Clock, Page, PageRequest, position_id
from domain.errors import Conflict, NotFound
from domain.events import DomainEvent, EventType
from domain.preconditions import ExpectedVersion, check_expected_version
from domain.schedules.model import Schedule, ScheduleDraft
from domain.schedules.use_cases import create_schedule
from domain.unit_of_work import UnitOfWork

DEFAULT_SCHEDULE_NAME = "Focus time"
"""The accepted schedule's name when the app sends none (the person can rename it)."""


async def store_insight(uow: UnitOfWork, insight: AiInsight) -> AiInsight | None:
    """Stores a new result with the user's next version and announces it (`insight.created`:
    a silent push of kind `insight`); None when the same one was stored before (a redelivery,
    or dismissed since: never made again). The caller commits."""
    version = await uow.next_version(insight.user_id)
    stored = replace(insight, version=version)
    if not await uow.insights.add(stored):
        return None
    await uow.outbox.add(
        DomainEvent(
            EventType.INSIGHT_CREATED, stored.user_id, str(stored.id), version, stored.created_at
        )
    )
    return stored


async def get_insight(uow: UnitOfWork, user_id: str, insight_id: UUID) -> AiInsight:
    insight = await uow.insights.get(user_id, insight_id)
    if insight is None:
        raise NotFound(detail="no such insight")
    return insight


async def list_insights(uow: UnitOfWork, user_id: str, page: PageRequest) -> Page[AiInsight]:
    found = await uow.insights.list(user_id, after=position_id(page), limit=page.limit + 1)
    more = len(found) > page.limit
    items = found[: page.limit]
    return Page(items, (str(items[-1].id),) if more and items else None)


async def dismiss_insight(
    uow: UnitOfWork,
    user_id: str,
    insight_id: UUID,
    *,
    expected_version: ExpectedVersion,
    clock: Clock,
) -> None:
    """The result leaves the person's list and every device (a tombstone in sync)."""
    await uow.lock_user(user_id)
    current = await get_insight(uow, user_id, insight_id)
    check_expected_version(current.version, expected_version, "insight")
    version = await uow.next_version(user_id)
    now = clock()
    await uow.insights.dismiss(user_id, insight_id, version, now)
    await uow.outbox.add(
        DomainEvent(EventType.INSIGHT_DISMISSED, user_id, str(insight_id), version, now)
    )


@dataclass(frozen=True, slots=True)
class Acceptance:
    """What the app adds to a suggestion to make it a schedule."""

    blocklist_id: UUID
    name: str | None = None
    timezone: str | None = None
    """None: the profile's timezone."""


@dataclass(frozen=True, slots=True)
class Accepted:
    schedule: Schedule
    insight: AiInsight
    created: bool
    """False when the suggestion was accepted before: its schedule is answered again."""


async def accept_suggestion(
    uow: UnitOfWork,
    user_id: str,
    insight_id: UUID,
    acceptance: Acceptance,
    *,
    expected_version: ExpectedVersion,
    clock: Clock,
) -> Accepted:
    """Creates the suggested schedule (days and window as suggested, on the app's blocklist)
    and marks the suggestion accepted, in one transaction. Accepting again answers the same
    schedule; once that schedule is deleted, the suggestion cannot be accepted again (409)."""
    await uow.lock_user(user_id)
    insight = await get_insight(uow, user_id, insight_id)
    if insight.suggestion is None or insight.feature is not AiFeature.SCHEDULE_SUGGESTION:
        raise Conflict(code="not_a_suggestion", detail="only a schedule suggestion is accepted")
    if insight.accepted_schedule_id is not None:
        schedule = await uow.schedules.get(user_id, insight.accepted_schedule_id)
        if schedule is None:
            raise Conflict(
                code="suggestion_already_accepted",
                detail="this suggestion was accepted and its schedule deleted since",
            )
        return Accepted(schedule, insight, created=False)
    check_expected_version(insight.version, expected_version, "insight")
    timezone = acceptance.timezone
    if timezone is None:
        profile = await uow.users.get(user_id)
        timezone = profile.timezone if profile is not None else "UTC"
    draft = ScheduleDraft(
        name=acceptance.name if acceptance.name is not None else DEFAULT_SCHEDULE_NAME,
        days=insight.suggestion.days,
        start_local=f"{insight.suggestion.start_local:%H:%M}",
        end_local=f"{insight.suggestion.end_local:%H:%M}",
        timezone=timezone,
        blocklist_id=acceptance.blocklist_id,
    )
    schedule = await create_schedule(uow, user_id, draft, clock=clock)
    # One write, two records: the suggestion takes the schedule's version (sync sends both).
    accepted = replace(
        insight,
        accepted_schedule_id=schedule.id,
        version=schedule.version,
        updated_at=schedule.created_at,
    )
    await uow.insights.save(accepted)
    await uow.outbox.add(
        DomainEvent(
            EventType.INSIGHT_ACCEPTED, user_id, str(insight_id), accepted.version,
            accepted.updated_at,
        )
    )  # fmt: skip
    return Accepted(schedule, accepted, created=True)


@dataclass(frozen=True, slots=True)
class ConsentStatus:
    """What the app shows for one feature: who would write it, the text to agree to, and
    whether the person's latest word is a grant of that text."""

    feature: AiFeature
    terms: ProviderTerms
    granted: bool
    answered_at: datetime | None
    """When the person last granted or withdrew it for this provider (any text version)."""


async def consent_statuses(
    ledger: ConsentLedger, user_id: str, terms: ProviderTerms
) -> list[ConsentStatus]:
    entries = await ledger.entries(user_id)
    statuses = []
    for feature in AiFeature:
        mine = [e for e in entries if e.feature is feature and e.provider == terms.provider]
        answered = max((e.at for e in mine), default=None)
        statuses.append(ConsentStatus(feature, terms, current(entries, feature, terms), answered))
    return statuses


async def answer_consent(
    ledger: ConsentLedger,
    user_id: str,
    feature: AiFeature,
    *,
    provider: str,
    text_version: int,
    granted: bool,
    terms: ProviderTerms,
    clock: Clock,
) -> ConsentStatus:
    """Records a grant or a withdrawal of the provider's text the app showed. A grant of
    another provider or an older text is refused (409): the person agreed to something that
    is no longer what would happen. A withdrawal is always recorded."""
    if provider != terms.provider:
        raise Conflict(code="unknown_ai_provider", detail=f"the provider is {terms.provider}")
    if granted and text_version != terms.text_version:
        raise Conflict(
            code="stale_consent_text",
            detail=f"the current text is version {terms.text_version}: show it and ask again",
        )
    if not terms.third_party:
        raise Conflict(code="consent_not_needed", detail="this provider needs no consent")
    now = clock()
    await ledger.record(user_id, ConsentEntry(feature, provider, text_version, granted, now))
    return ConsentStatus(feature, terms, granted, now)
