"""OAuth2 access tokens for FCM, from google-auth credentials.

google-auth refreshes synchronously (through `requests`), so a refresh runs in a worker
thread. It happens when the token is within minutes of expiring (about once an hour) or after
FCM refused it, never once per push. A lock makes concurrent sends share one refresh.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import anyio
import anyio.to_thread
import google.auth
import requests
from google.auth.credentials import Credentials, with_scopes_if_required
from google.auth.transport.requests import Request
from google.oauth2.service_account import Credentials as ServiceAccountCredentials

from notifications.fcm.config import FCM_SCOPE, FcmConfig

# google-auth leaves these unannotated.
_with_scopes_if_required = cast(Callable[..., Credentials], with_scopes_if_required)
_service_account_file = cast(
    Callable[..., Credentials], ServiceAccountCredentials.from_service_account_file
)


def load_credentials(config: FcmConfig) -> Credentials:
    """The configured credentials, scoped for FCM (reads the file or finds the defaults)."""
    if config.credentials is not None:
        return _with_scopes_if_required(config.credentials, [FCM_SCOPE])
    if config.credentials_file is not None:
        # Service account keys only: google-auth deprecates loading any credential type from a
        # file (an external-account file can make it run commands); pass others ready-made.
        return _service_account_file(str(config.credentials_file), scopes=[FCM_SCOPE])
    found: Credentials
    found, _ = google.auth.default(scopes=[FCM_SCOPE])
    return found


class _TimedRequest(Request):
    """google-auth's `requests` transport, with our timeout instead of its 120 s default."""

    def __init__(self, session: requests.Session, timeout_seconds: float) -> None:
        super().__init__(session)
        self._timeout_seconds = timeout_seconds

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        return super().__call__(  # type: ignore[no-untyped-call]
            url, method, body, headers, timeout=timeout or self._timeout_seconds, **kwargs
        )


class AccessTokens:
    def __init__(self, credentials: Credentials, timeout_seconds: float) -> None:
        self._credentials = credentials
        self._session = requests.Session()
        self._request = _TimedRequest(self._session, timeout_seconds)
        self._lock = anyio.Lock()
        self._refused: str | None = None

    async def current(self) -> str:
        """A token valid for a few more minutes at least.

        Raises google-auth's errors (`RefreshError`, `TransportError`) when none can be had.
        """
        async with self._lock:
            token = self._credentials.token
            if token is None or token == self._refused or not self._credentials.valid:
                await anyio.to_thread.run_sync(self._credentials.refresh, self._request)
                token = self._credentials.token
            if not isinstance(token, str):
                raise TypeError(f"{type(self._credentials).__name__} refreshed to no token")
            return token

    def refused(self, token: str) -> None:
        """FCM answered 401 to `token`: the next send fetches a new one, even if not expired."""
        self._refused = token

    def close(self) -> None:
        self._session.close()
