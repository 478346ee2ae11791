"""A local token issuer for the embedded dev setup: HS256 JWTs signed with a secret on disk.

`focus dev token` issues tokens and the dev server verifies them, both with the secret from
`load_or_create_secret`. Never for production; the composition root refuses it there.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from domain.errors import Unauthenticated
from domain.identity import Principal

AUDIENCE = "focus-dev"
SECRET_BYTES = 32  # PyJWT warns about shorter HS256 keys; RFC 7518 asks for at least 256 bits.
CLOCK_SKEW_SECONDS = 5
# A uid is text a database can key on: no control characters (PostgreSQL cannot store NUL).
_UID = re.compile(r"[^\x00-\x1f\x7f]{1,128}")


class DevTokenIssuer:
    """Issues and verifies dev tokens. Implements `domain.identity.TokenVerifier`."""

    def __init__(self, secret: bytes, *, issuer: str = "focus-dev") -> None:
        if len(secret) < SECRET_BYTES:
            raise ValueError(f"dev token secret must be at least {SECRET_BYTES} bytes")
        self._secret = secret
        self._issuer = issuer

    def issue(
        self,
        uid: str,
        *,
        ttl: timedelta = timedelta(days=30),
        anonymous: bool = False,
        signed_in_at: datetime | None = None,
    ) -> str:
        """A token for `uid`; `signed_in_at` (default: now) is its `auth_time`, as Firebase
        keeps the time of the last real sign-in across token refreshes."""
        if not _UID.fullmatch(uid):
            raise ValueError("uid must be 1-128 characters without control characters")
        now = datetime.now(UTC)
        claims = {
            "iss": self._issuer,
            "sub": uid,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + ttl,
            "auth_time": int((signed_in_at or now).timestamp()),
            "anonymous": anonymous,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    async def verify(self, token: str, *, check_revoked: bool = False) -> Principal:
        """Check signature, issuer, audience and times. Dev tokens cannot be revoked (rotate
        the secret file instead), so `check_revoked` changes nothing."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=self._issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "sub", "aud", "iat", "exp"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated(code="token_expired", detail=str(exc)) from exc
        except jwt.InvalidSignatureError as exc:  # a DecodeError, but the token is well-formed
            raise Unauthenticated(code="token_invalid", detail=str(exc)) from exc
        except jwt.DecodeError as exc:
            raise Unauthenticated(code="token_malformed", detail=str(exc)) from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(code="token_invalid", detail=str(exc)) from exc
        if not isinstance(claims["sub"], str) or not _UID.fullmatch(claims["sub"]):
            raise Unauthenticated(code="token_invalid", detail="the subject is not a uid")
        auth_time = claims.get("auth_time")
        return Principal(
            uid=claims["sub"],
            anonymous=claims.get("anonymous") is True,
            auth_time=(
                datetime.fromtimestamp(auth_time, UTC) if isinstance(auth_time, int) else None
            ),
        )


def load_or_create_secret(path: Path) -> bytes:
    """Read the dev secret at `path`, creating a random one (mode 0600) if there is none.

    Creation is atomic (write a private temporary file, then hard-link it into place), so a CLI
    and a server starting together end up sharing one secret.
    """
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(secrets.token_bytes(SECRET_BYTES))
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        finally:
            temporary.unlink()
    secret = path.read_bytes()
    if len(secret) < SECRET_BYTES:
        raise ValueError(f"{path} holds fewer than {SECRET_BYTES} bytes; delete it to start over")
    return secret
