"""`DeviceRepository` on the legacy Firestore layout: `users/{uid}/devices/{installation_id}`.

`holding` finds push tokens across users with a collection-group query.
"""

from __future__ import annotations

from collections.abc import Sequence

from google.cloud.firestore_v1.base_query import FieldFilter

from domain.devices.model import Device
from migration.firestore.layout import DEVICES
from migration.firestore.mapping import devices as mapping
from migration.firestore.repositories.common import Documents, mark_deleted, replace_fields


class FirestoreDeviceRepository:
    def __init__(self, documents: Documents) -> None:
        self._docs = documents

    async def get(self, user_id: str, installation_id: str) -> Device | None:
        snapshot = await self._docs.collection(user_id, DEVICES).document(installation_id).get()
        if not snapshot.exists:
            return None
        return self._docs.map(snapshot, mapping.from_document, self._docs.context())

    async def holding(self, tokens: Sequence[str]) -> list[Device]:
        if not tokens:
            return []
        query = self._docs.client.collection_group(DEVICES).where(
            filter=FieldFilter("pushToken", "in", list(tokens))
        )
        context = self._docs.context()
        found = [
            self._docs.map(snapshot, mapping.from_document, context)
            async for snapshot in query.stream()
        ]
        return [device for device in found if device is not None]

    async def list(self, user_id: str) -> list[Device]:
        devices = await self._docs.map_all(user_id, DEVICES, mapping.from_document)
        return sorted(devices, key=lambda device: device.installation_id)

    async def count(self, user_id: str) -> int:
        return len(await self.list(user_id))

    async def save(self, device: Device) -> None:
        reference = self._docs.collection(device.user_id, DEVICES).document(device.installation_id)
        await replace_fields(reference, mapping.to_document(device))

    async def delete(self, user_id: str, installation_id: str, version: int) -> None:
        reference = self._docs.collection(user_id, DEVICES).document(installation_id)
        await mark_deleted(reference, version, self._docs.clock(), pushToken=None)
