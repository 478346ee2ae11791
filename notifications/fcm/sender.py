"""The FCM HTTP v1 adapter of the `PushSender` port: one `messages:send` call per push.

A thin httpx client rather than firebase-admin's messaging or pyfcm (docs/adr/0009): every
answer comes back to us once, with its status, FCM error code and `Retry-After`, and the
push policy decides about retries through the durable task queue. Nothing here retries.
"""

from __future__ import annotations

import logging
from types import TracebackType

import httpx
from google.auth.exceptions import GoogleAuthError

from domain.common import Clock, utc_now
from domain.push.model import MAX_PAYLOAD_BYTES, PushOutcome, PushResult, SilentPush
from notifications.fcm.access_token import AccessTokens, load_credentials
from notifications.fcm.config import FcmConfig
from notifications.fcm.message import data_size, send_request_body
from notifications.fcm.responses import PUSH_CREDENTIAL_CODES, read_answer

log = logging.getLogger("notifications.fcm")

PAYLOAD_TOO_LARGE = "PayloadTooLarge"
CONNECTION_LOST = "ConnectionLost"
AUTH_FAILED = "AccessTokenUnavailable"
TOKEN_PREFIX_LENGTH = 8
ANSWER_LOGGED = 500
"""Characters of an error answer kept in the log: FCM's message names the offending field."""


class FcmSender:
    def __init__(self, config: FcmConfig, *, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._tokens = AccessTokens(load_credentials(config), config.timeout_seconds)
        self._path = f"/v1/projects/{config.project_id}/messages:send"
        self._client = httpx.AsyncClient(
            base_url=config.base_url,
            timeout=config.timeout_seconds,
            http2=config.http2,
            headers={"Content-Type": "application/json; charset=UTF-8"},
        )

    async def send(self, push: SilentPush) -> PushResult:
        size = data_size(push.data)
        if size > MAX_PAYLOAD_BYTES:
            return _logged(
                push, PushResult(PushOutcome.REJECTED, reason=PAYLOAD_TOO_LARGE), size=size
            )
        try:
            access_token = await self._tokens.current()
        except GoogleAuthError:
            log.exception(
                "notifications.fcm.token_refresh_failed", extra={"token_prefix": _prefix(push)}
            )
            return PushResult(PushOutcome.RETRY_LATER, reason=AUTH_FAILED)
        try:
            response = await self._client.post(
                self._path,
                content=send_request_body(push, self._clock()),
                headers={"Authorization": f"Bearer {access_token}"},
            )
        except httpx.TransportError as exc:
            # Sent or not, we cannot tell: sending again is harmless (the app syncs twice).
            log.warning(
                "notifications.fcm.connection_lost",
                extra={"token_prefix": _prefix(push), "error": repr(exc)},
            )
            return PushResult(PushOutcome.RETRY_LATER, reason=CONNECTION_LOST)
        result = read_answer(
            response.status_code, response.headers, response.content, self._clock()
        )
        if result.status == 401 and result.reason not in PUSH_CREDENTIAL_CODES:
            self._tokens.refused(access_token)
        answer = None if result.outcome is PushOutcome.DELIVERED else response.text[:ANSWER_LOGGED]
        return _logged(push, result, answer=answer)

    async def aclose(self) -> None:
        await self._client.aclose()
        self._tokens.close()

    async def __aenter__(self) -> FcmSender:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


_EVENTS = {
    PushOutcome.DELIVERED: ("notifications.fcm.delivered", logging.DEBUG),
    PushOutcome.UNREGISTERED: ("notifications.fcm.token_unregistered", logging.INFO),
    PushOutcome.RETRY_LATER: ("notifications.fcm.retry_later", logging.WARNING),
    PushOutcome.REJECTED: ("notifications.fcm.rejected", logging.ERROR),
}


def _logged(
    push: SilentPush, result: PushResult, *, size: int | None = None, answer: str | None = None
) -> PushResult:
    event, level = _EVENTS.get(result.outcome, ("notifications.fcm.answered", logging.WARNING))
    extra: dict[str, object] = {
        "token_prefix": _prefix(push),
        "status": result.status,
        "reason": result.reason,
        "retry_after_seconds": result.retry_after_seconds,
    }
    if size is not None:
        extra["payload_bytes"] = size
    if answer is not None:
        extra["answer"] = answer
    log.log(level, event, extra=extra)
    return result


def _prefix(push: SilentPush) -> str:
    return push.token[:TOKEN_PREFIX_LENGTH]
