"""Checks a GCS V4 signed URL as Google would (the emulator checks nothing): the canonical
request rebuilt from the URL as sent, its string to sign, and the RSA signature against the
service account's public key. Written from Google's V4 signing docs, not from the client's
code, so that the two can disagree."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def is_signed_by(url: str, public_key: rsa.RSAPublicKey) -> bool:
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    signature = dict(params).get("X-Goog-Signature", "")
    signed = sorted((k, v) for k, v in params if k != "X-Goog-Signature")
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in signed)
    values = dict(signed)
    headers = values.get("X-Goog-SignedHeaders", "")
    canonical = "\n".join(
        ["GET", parts.path, query, f"host:{parts.netloc}\n", headers, "UNSIGNED-PAYLOAD"]
    )
    scope = values.get("X-Goog-Credential", "").split("/", 1)[-1]
    to_sign = "\n".join(
        [
            values.get("X-Goog-Algorithm", ""),
            values.get("X-Goog-Date", ""),
            scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    try:
        public_key.verify(
            bytes.fromhex(signature), to_sign.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def valid_until(url: str) -> datetime:
    """When Google would stop honouring the URL: its X-Goog-Date plus X-Goog-Expires."""
    values = dict(parse_qsl(urlsplit(url).query))
    signed_at = datetime.strptime(values["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return signed_at + timedelta(seconds=int(values["X-Goog-Expires"]))
