"""`UsageReportRepository` on the legacy Firestore layout: one document per day and device,
`users/{uid}/usage/<date>_<installationId>`, listed by a range of document ids.
"""

from __future__ import annotations

import datetime as dt

from google.cloud.firestore_v1.async_document import AsyncDocumentReference
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from domain.usage.model import UsageReport
from migration.firestore.layout import USAGE, usage_doc_id
from migration.firestore.mapping import usage as mapping
from migration.firestore.repositories.common import Documents, replace_fields

_DOCUMENT_ID = FieldPath.document_id()


class FirestoreUsageReportRepository:
    """Document ids put the date first, so one range of ids reads days in (date, installation
    id) order, as the Postgres key does (ids compare by code point, as the "C" collation)."""

    def __init__(self, documents: Documents) -> None:
        self._docs = documents

    async def get(
        self, user_id: str, installation_id: str, day: dt.date, *, for_update: bool = False
    ) -> UsageReport | None:
        """`for_update` holds nothing: Firestore locks only inside its own transactions (the
        dual-write unit of work relies on the Postgres row lock)."""
        documents = self._docs.collection(user_id, USAGE)
        snapshot = await documents.document(usage_doc_id(day, installation_id)).get()
        if not snapshot.exists:
            return None
        return self._docs.map(snapshot, mapping.from_document, self._docs.context())

    async def list(
        self,
        user_id: str,
        first: dt.date,
        last: dt.date,
        *,
        after: tuple[dt.date, str] | None,
        limit: int,
    ) -> list[UsageReport]:
        documents = self._docs.collection(user_id, USAGE)

        def at(doc_id: str) -> AsyncDocumentReference:
            reference: AsyncDocumentReference = documents.document(doc_id)
            return reference

        upper = (last + dt.timedelta(days=1)).isoformat()
        query = (
            documents.where(filter=FieldFilter(_DOCUMENT_ID, ">=", at(first.isoformat())))
            .where(filter=FieldFilter(_DOCUMENT_ID, "<", at(upper)))
            .order_by(_DOCUMENT_ID)
        )
        if after is not None:
            query = query.where(filter=FieldFilter(_DOCUMENT_ID, ">", at(usage_doc_id(*after))))
        snapshots = [snap async for snap in query.stream()]
        context = self._docs.context()
        mapped = (self._docs.map(snap, mapping.from_document, context) for snap in snapshots)
        return [report for report in mapped if report is not None][:limit]

    async def save(self, report: UsageReport) -> None:
        doc_id = usage_doc_id(report.date, report.installation_id)
        reference = self._docs.collection(report.user_id, USAGE).document(doc_id)
        await replace_fields(reference, mapping.to_document(report))
