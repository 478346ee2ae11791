"""App Check as the apps meet it: tokens signed like Firebase's, with a key of our own, and
the key set published on loopback as App Check publishes its own (firebaseappcheck /v1/jwks).
Nothing here was signed by Google."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.google import new_signing_key
from tests.support.key_set_server import KeySetServer

PROJECT_ID = "demo-focus"
PROJECT_NUMBER = "123456789012"
IOS_APP_ID = f"1:{PROJECT_NUMBER}:ios:0a1b2c3d4e5f"


class FakeAppCheck:
    def __init__(self) -> None:
        self.key = new_signing_key()
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        key = {**jwk, "kid": "ac1", "alg": "RS256", "use": "sig"}
        self.keys = KeySetServer([key], "/v1/jwks")
        self.jwks_url = self.keys.url

    def token(self, key: rsa.RSAPrivateKey | None = None, **overrides: Any) -> str:
        """An App Check token for our iOS app; `overrides` change its claims."""
        now = int(time.time())
        claims = {
            "iss": f"https://firebaseappcheck.googleapis.com/{PROJECT_NUMBER}",
            "sub": IOS_APP_ID,
            "aud": [f"projects/{PROJECT_NUMBER}", f"projects/{PROJECT_ID}"],
            "iat": now,
            "exp": now + 3600,
            **overrides,
        }
        headers = {"kid": "ac1", "typ": "JWT"}
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers=headers)

    def stop(self) -> None:
        self.keys.stop()
