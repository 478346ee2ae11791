from __future__ import annotations

from collections.abc import Sequence

from domain.devices.model import Device


class FakeDeviceRepository:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Device] = {}
        self.tombstones: dict[tuple[str, str], int] = {}

    async def get(self, user_id: str, installation_id: str) -> Device | None:
        return self.rows.get((user_id, installation_id))

    async def holding(self, tokens: Sequence[str]) -> list[Device]:
        return [
            d for d in self.rows.values() if d.push_token is not None and d.push_token in tokens
        ]

    async def list(self, user_id: str) -> list[Device]:
        return sorted(
            (d for (u, _), d in self.rows.items() if u == user_id),
            key=lambda d: d.installation_id,
        )

    async def count(self, user_id: str) -> int:
        return len(await self.list(user_id))

    async def save(self, device: Device) -> None:
        key = (device.user_id, device.installation_id)
        self.rows[key] = device
        self.tombstones.pop(key, None)

    async def delete(self, user_id: str, installation_id: str, version: int) -> None:
        self.rows.pop((user_id, installation_id), None)
        self.tombstones[(user_id, installation_id)] = version
