"""The embedded default's push sender: writes each push to the log, delivers nothing."""

from __future__ import annotations

import logging

from domain.push.model import PushOutcome, PushResult, SilentPush

log = logging.getLogger("notifications.log")


class LogPushSender:
    async def send(self, push: SilentPush) -> PushResult:
        log.info(
            "notifications.log.silent_push",
            extra={
                "platform": push.platform.value,
                "token_prefix": push.token[:8],
                "collapse_id": push.collapse_id,
                "data": dict(push.data),
            },
        )
        return PushResult(PushOutcome.DELIVERED)

    async def aclose(self) -> None:
        return None
