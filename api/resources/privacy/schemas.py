"""Wire shapes of data-subject requests as the app sees them: what was asked, where it stands,
when it is due, and the export's download link once it is ready."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from api.schemas import ResponseModel, UtcDatetime
from domain.privacy.model import PrivacyRequest, RequestKind, RequestState
from domain.privacy.ports import Download


class DownloadOut(ResponseModel):
    url: str = Field(description="A signed link to the ZIP; ask again for a fresh one")
    expires_at: UtcDatetime


class PrivacyRequestOut(ResponseModel):
    id: UUID
    kind: RequestKind
    state: RequestState
    received_at: UtcDatetime
    due_at: UtcDatetime = Field(description="When the answer is due at the latest (GDPR Art. 12)")
    finished_at: UtcDatetime | None
    delay_reasons: list[str] = Field(
        description="Why the deadline was extended, one reason per extension (GDPR Art. 12(3))"
    )
    download: DownloadOut | None = Field(
        description="A completed export's archive, while it is kept (30 days)"
    )

    @classmethod
    def of(
        cls, request: PrivacyRequest, download: Download | None, now: UtcDatetime
    ) -> PrivacyRequestOut:
        return cls(
            id=request.id,
            kind=request.kind,
            state=request.state,
            received_at=request.received_at,
            due_at=request.due_at(now),
            finished_at=request.finished_at,
            delay_reasons=[extension.reason for extension in request.extensions],
            download=(
                DownloadOut(url=download.url, expires_at=download.expires_at)
                if download is not None
                else None
            ),
        )
