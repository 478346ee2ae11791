from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


class PostgresUsageReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
