"""What device use cases need from storage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.devices.model import Device


class DeviceRepository(Protocol):
    async def get(self, user_id: str, installation_id: str) -> Device | None: ...
    async def holding(self, tokens: Sequence[str]) -> list[Device]:
        """Live devices, of any user, whose push token is one of `tokens`: what keeps a token
        on one device of one user (domain/devices/push_tokens.py)."""
        ...

    # Below `list`, `list` in an annotation would name the method.
    async def list(self, user_id: str) -> list[Device]: ...
    async def count(self, user_id: str) -> int: ...

    async def save(self, device: Device) -> None: ...
    async def delete(self, user_id: str, installation_id: str, version: int) -> None:
        """Soft-delete: the row stays as a tombstone carrying `version` for sync."""
        ...
