"""Credentials and tokens shaped like Google's, made locally: nothing here was signed by Google."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

HOUR = 3600


def new_signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def service_account(key: rsa.RSAPrivateKey, project_id: str) -> dict[str, str]:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": "k1",
        "private_key": pem.decode(),
        "client_email": f"verifier@{project_id}.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


def write_service_account(folder: Path, key: rsa.RSAPrivateKey, project_id: str) -> Path:
    path = folder / "service-account.json"
    path.write_text(json.dumps(service_account(key, project_id)))
    return path


def firebase_style_token(key: rsa.RSAPrivateKey, project_id: str, uid: str = "someone") -> str:
    """Shaped like a real Firebase ID token (RS256 with a kid)."""
    now = int(time.time())
    claims = {
        "iss": f"https://securetoken.google.com/{project_id}",
        "aud": project_id,
        "sub": uid,
        "iat": now,
        "exp": now + HOUR,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
