"""A published JWT key set (JWKS), fetched and cached as the token verifiers need it."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import jwt

from domain.errors import AuthUnavailable


class KeySet:
    """The keys at `url`: PyJWT caches them and fetches again only for a key id it has not
    seen (and after `lifespan_seconds`, when the issuer asks to refresh)."""

    def __init__(
        self, url: str, *, owner: str, timeout_seconds: float, lifespan_seconds: float = 300
    ) -> None:
        self._owner = owner
        self._client = jwt.PyJWKClient(
            url, cache_keys=True, lifespan=lifespan_seconds, timeout=timeout_seconds
        )

    async def key_for(self, token: str) -> Any:
        """The key that signed `token`. Raises `AuthUnavailable` when the set cannot be
        fetched, and PyJWT's errors for a token that names no key of the set."""
        try:
            # The fetch (rare) is blocking urllib: keep it off the event loop.
            signing = await anyio.to_thread.run_sync(self._client.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError as error:
            raise AuthUnavailable(detail=f"{self._owner}'s signing keys: {error}") from error
        return signing.key
