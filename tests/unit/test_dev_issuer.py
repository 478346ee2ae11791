"""The local dev token issuer: what it accepts, what it refuses, where its secret lives."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest

from domain.errors import Unauthenticated
from identity.dev_issuer import DevTokenIssuer, load_or_create_secret

SECRET = b"s" * 32


async def refusal(issuer: DevTokenIssuer, token: str) -> str:
    with pytest.raises(Unauthenticated) as refused:
        await issuer.verify(token)
    return refused.value.code


@pytest.mark.anyio
@pytest.mark.parametrize("anonymous", [False, True])
async def test_an_issued_token_verifies_as_its_user(anonymous: bool) -> None:
    issuer = DevTokenIssuer(SECRET)

    principal = await issuer.verify(issuer.issue("u-1", anonymous=anonymous), check_revoked=True)

    assert (principal.uid, principal.anonymous) == ("u-1", anonymous)


@pytest.mark.anyio
async def test_an_expired_token_is_refused() -> None:
    issuer = DevTokenIssuer(SECRET)

    assert await refusal(issuer, issuer.issue("u-1", ttl=timedelta(minutes=-1))) == "token_expired"


@pytest.mark.anyio
async def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = DevTokenIssuer(b"o" * 32).issue("u-1")

    assert await refusal(DevTokenIssuer(SECRET), token) == "token_invalid"


@pytest.mark.anyio
async def test_a_token_from_another_issuer_is_refused() -> None:
    token = DevTokenIssuer(SECRET, issuer="someone-else").issue("u-1")

    assert await refusal(DevTokenIssuer(SECRET), token) == "token_invalid"


@pytest.mark.anyio
@pytest.mark.parametrize("garbage", ["", "garbage", "a.b.c"])
async def test_garbage_is_refused_as_malformed(garbage: str) -> None:
    assert await refusal(DevTokenIssuer(SECRET), garbage) == "token_malformed"


def test_a_short_secret_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        DevTokenIssuer(b"short")


def test_the_secret_is_created_once_private_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "dev" / "token-secret"

    first = load_or_create_secret(path)

    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == first
    assert [p.name for p in path.parent.iterdir()] == ["token-secret"]  # no temporary left


def test_a_truncated_secret_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token-secret"
    path.write_bytes(b"short")

    with pytest.raises(ValueError, match="delete it"):
        load_or_create_secret(path)
