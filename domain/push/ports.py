"""What the silent-push policy needs from a push service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.push.budget import Decision
from domain.push.model import PushResult, SilentPush


class PushSender(Protocol):
    """Sends one silent push; never raises for what the service answered, only returns it.

    A connection that fails before an answer comes back is `RETRY_LATER` (a silent push sent
    twice is harmless: the app syncs twice). Raises only on programming errors.
    """

    async def send(self, push: SilentPush) -> PushResult: ...

    async def aclose(self) -> None:
        """Closes pooled connections."""
        ...


class PushBudgets(Protocol):
    """Each device's push budget (domain.push.budget), kept durably."""

    async def take(
        self, user_id: str, installation_id: str, now: datetime, version: int | None
    ) -> Decision:
        """Decides and records at once: a slot taken now, or the version left waiting.

        A `version` the device was settled for (or a lower one) takes nothing.
        """
        ...

    async def settle(self, user_id: str, installation_ids: Sequence[str], version: int) -> None:
        """These devices' pushes for `version` are done: sent and the answer acted on, or
        left waiting for a slot. A redelivered event skips them; the others take again."""
        ...
