"""Wire shapes of AI results: a weekly insight (a few sentences and the numbers they rest
on) or a schedule suggestion (days and a local window, accepted in one call); and consent to
the provider that writes them."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import Field

from api.schemas import (
    PageOut,
    RequestModel,
    ResponseModel,
    StrictBool,
    StrictInt,
    Timezone,
    UtcDatetime,
)
from domain.ai.budgets import AiFeature
from domain.ai.insights import AiInsight
from domain.ai.use_cases import Acceptance, ConsentStatus
from domain.blocklists.model import MAX_NAME_LENGTH
from domain.schedules.model import Weekday, format_local_time


class SuggestedScheduleOut(ResponseModel):
    days: list[Weekday]
    start_local: str = Field(examples=["09:00"])
    end_local: str = Field(examples=["11:00"], description="Earlier than start: crosses midnight")


class InsightOut(ResponseModel):
    id: UUID
    kind: AiFeature = Field(description="weekly_insight, or schedule_suggestion")
    period_start: date = Field(
        description="The week's Monday (weekly insight) or the local day (suggestion)"
    )
    text: str = Field(
        description="The insight's sentences, or why the schedule is suggested (≤ 280 chars)"
    )
    numbers: list[int] = Field(description="The numbers the text rests on")
    suggested_schedule: SuggestedScheduleOut | None = Field(
        description="Set for a schedule suggestion: accept it with POST …/accept"
    )
    accepted_schedule_id: UUID | None = Field(
        description="The schedule accepting the suggestion created"
    )
    written_by: str = Field(
        description="`local` (our servers) or the hosted provider's id (e.g. `vertex-gemini`)"
    )
    version: int
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def of(cls, insight: AiInsight) -> InsightOut:
        s = insight.suggestion
        return cls(
            id=insight.id,
            kind=insight.feature,
            period_start=insight.period_start,
            text=insight.text,
            numbers=list(insight.numbers),
            suggested_schedule=None
            if s is None
            else SuggestedScheduleOut(
                days=list(s.days),
                start_local=format_local_time(s.start_local),
                end_local=format_local_time(s.end_local),
            ),
            accepted_schedule_id=insight.accepted_schedule_id,
            written_by=insight.provider,
            version=insight.version,
            created_at=insight.created_at,
            updated_at=insight.updated_at,
        )


class InsightPage(PageOut):
    items: list[InsightOut]


class AcceptSuggestion(RequestModel):
    blocklist_id: UUID = Field(description="Which of the user's blocklists the schedule blocks")
    name: str | None = Field(
        default=None, min_length=1, max_length=MAX_NAME_LENGTH,
        description="The schedule's name (default: \"Focus time\")",
    )  # fmt: skip
    timezone: Timezone | None = Field(
        default=None, description="The schedule's timezone (default: the profile's)"
    )

    def to_acceptance(self) -> Acceptance:
        return Acceptance(self.blocklist_id, self.name, self.timezone)


class ProviderOut(ResponseModel):
    id: str = Field(examples=["vertex-gemini"])
    display_name: str = Field(
        examples=["Google Gemini (Vertex AI)"], description="Name it so in the app"
    )
    third_party: bool = Field(description="False: our own servers; no consent is asked")


class ConsentOut(ResponseModel):
    feature: AiFeature
    provider: ProviderOut
    text: str = Field(description="Show it before asking; a grant names its text_version")
    text_version: int
    granted: bool = Field(
        description="The provider may be asked (always true for our own servers); false "
        "after a withdrawal or when the text changed since the grant"
    )
    answered_at: UtcDatetime | None = Field(description="The person's last grant or withdrawal")

    @classmethod
    def of(cls, status: ConsentStatus) -> ConsentOut:
        t = status.terms
        return cls(
            feature=status.feature,
            provider=ProviderOut(id=t.provider, display_name=t.display_name,
                                 third_party=t.third_party),
            text=t.text,
            text_version=t.text_version,
            granted=status.granted or not t.third_party,
            answered_at=status.answered_at,
        )  # fmt: skip


class ConsentList(ResponseModel):
    items: list[ConsentOut]


class ConsentAnswer(RequestModel):
    feature: AiFeature
    provider: str = Field(max_length=100, description="ProviderOut.id as shown")
    text_version: StrictInt = Field(ge=1, le=2**31 - 1, description="The text_version shown")
    granted: StrictBool = Field(description="true: agree; false: withdraw")
