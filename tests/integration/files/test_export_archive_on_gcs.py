"""A data-subject export kept in GCS (the emulator), as production keeps it: the runner's parts
and archive go to the bucket, the staging parts are gone afterwards, and the signed link the
app hands out downloads the ZIP and lives seven days at most."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.files.gcs import GcsFileStore
from datastore.postgres.personal_data import PostgresPersonalData
from datastore.postgres.privacy_store import PostgresPrivacyStore
from domain.common import utc_now
from domain.privacy.model import RequestKind, RequestState
from domain.privacy.ports import PrivacyStore
from domain.tasks import Task
from domain.user_data import DataStore
from privacy.requests import PrivacyRequests, SubjectHasher
from privacy.runner import PrivacyRunner

pytestmark = pytest.mark.anyio


class Scheduled:
    async def schedule(self, task: Task) -> bool:
        return True


async def test_an_export_in_the_bucket_downloads_through_its_signed_link(
    engine: AsyncEngine, gcs_store: GcsFileStore
) -> None:
    uid = f"u-gcs-{utc_now().timestamp()}"
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (uid, display_name, created_at, updated_at)"
                " VALUES (:uid, 'Gcs Person', now(), now())"
            ),
            {"uid": uid},
        )

    def store() -> PrivacyStore:
        return PostgresPrivacyStore(engine)

    requests = PrivacyRequests(store, Scheduled(), SubjectHasher(b"k" * 32), utc_now, gcs_store)
    runner = PrivacyRunner(
        store, {DataStore.POSTGRES: PostgresPersonalData(engine)}, gcs_store, Scheduled(),
        utc_now, optional=frozenset(set(DataStore) - {DataStore.POSTGRES}),
    )  # fmt: skip

    opened = await requests.open_from_app(RequestKind.EXPORT, uid)
    await runner.run_all(opened.request.id)
    done = await requests.get(opened.request.id)
    download = await requests.download(done)

    assert done.state is RequestState.COMPLETED
    assert download is not None
    assert await gcs_store.list("privacy/staging/") == []
    query = parse_qs(urlsplit(download.url).query)
    assert int(query["X-Goog-Expires"][0]) == int(timedelta(days=7).total_seconds())
    assert download.expires_at - utc_now() <= timedelta(days=7)
    fetched = httpx2.get(download.url, timeout=30)
    assert fetched.status_code == 200
    with zipfile.ZipFile(io.BytesIO(fetched.content)) as archive:
        users = json.loads(archive.read("users.json"))
        manifest = json.loads(archive.read("manifest.json"))
    assert users[0]["display_name"] == "Gcs Person"
    assert set(manifest["files"]) >= {"README.txt", "users.json", "users.csv"}
