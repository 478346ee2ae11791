"""What device use cases need from storage."""

from __future__ import annotations

from typing import Protocol

from domain.devices.model import Device


class DeviceRepository(Protocol):
    async def get(self, user_id: str, installation_id: str) -> Device | None: ...
    async def list(self, user_id: str) -> list[Device]: ...
    async def count(self, user_id: str) -> int: ...
    async def save(self, device: Device) -> None: ...
    async def delete(self, user_id: str, installation_id: str, version: int) -> None:
        """Soft-delete: the row stays as a tombstone carrying `version` for sync."""
        ...
