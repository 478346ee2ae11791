"""What APNs checks and answers, for the fake APNs (tests/support/fake_apns.py): provider
tokens, Apple's table of request errors, scripted replies and what was received."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

_DEVICE_PATH = re.compile(rb"^/3/device/([0-9a-fA-F]{64,200})$")
_PUSH_TYPES = {b"alert", b"background", b"location", b"voip", b"complication", b"fileprovider"}
_PUSH_TYPES |= {b"mdm", b"liveactivity", b"pushtotalk", b"widgets", b"controls"}
MAX_PAYLOAD_BYTES = 4096


@dataclass(frozen=True)
class ApnsCredentials:
    """A provider's signing key (an APNs .p8 is a PKCS#8 P-256 key) and identifiers."""

    key_id: str
    team_id: str
    topic: str
    private_key_pem: str = field(repr=False)
    public_key_pem: str

    @classmethod
    def generate(cls, topic: str = "com.example.focus") -> ApnsCredentials:
        key = ec.generate_private_key(ec.SECP256R1())
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls("ABC123DEFG", "TEAM123456", topic, private.decode(), public.decode())


class Failure(StrEnum):
    CLOSE = "close"
    """Close the TCP connection without answering (every stream on it is lost)."""
    GOAWAY = "goaway"
    """GOAWAY naming an earlier stream as the last one processed, then close."""
    RESET = "reset"
    """RST_STREAM (REFUSED_STREAM) on this stream only, as APNs does when it cuts streams."""
    SILENCE = "silence"
    """Never answer this request (the connection stays up)."""


@dataclass(frozen=True)
class Reply:
    """What to answer to a request, instead of judging it. 410 gets a `timestamp` (now) unless
    `timestamp_ms` is given."""

    status: int = 200
    reason: str | None = None
    retry_after: str | None = None
    timestamp_ms: int | None = None
    apns_id: str | None = None
    failure: Failure | None = None

    @classmethod
    def fail(cls, failure: Failure) -> Reply:
        return cls(failure=failure)

    def http(
        self, apns_id: bytes | None, clock: Callable[[], datetime]
    ) -> tuple[list[tuple[bytes, bytes]], bytes | None]:
        """Headers and JSON body as APNs sends them: `apns-id` always (the request's or a new
        one), `{"reason": ...}` on errors, with `timestamp` (ms) on 410."""
        new_id = str(uuid.uuid4()).upper().encode()
        headers = [(b":status", str(self.status).encode())]
        headers.append((b"apns-id", (self.apns_id or "").encode() or apns_id or new_id))
        if self.retry_after is not None:
            headers.append((b"retry-after", self.retry_after.encode()))
        if self.status == 200:
            return headers, None
        error: dict[str, Any] = {"reason": self.reason}
        if self.status == 410:
            now_ms = int(clock().timestamp() * 1000)
            error["timestamp"] = self.timestamp_ms if self.timestamp_ms is not None else now_ms
        body = orjson.dumps(error)
        headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", str(len(body)).encode()))
        return headers, body


@dataclass(frozen=True)
class ReceivedRequest:
    connection: int
    method: str
    path: str
    authority: str
    headers: dict[str, str]
    body: bytes

    @classmethod
    def of(cls, connection: int, headers: dict[bytes, bytes], body: bytes) -> ReceivedRequest:
        return cls(
            connection=connection,
            method=headers.get(b":method", b"").decode(),
            path=headers.get(b":path", b"").decode(),
            authority=headers.get(b":authority", b"").decode(),
            headers={k.decode(): v.decode() for k, v in headers.items() if k[:1] != b":"},
            body=body,
        )

    @property
    def device_token(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def provider_token(self) -> str:
        return self.headers.get("authorization", "").removeprefix("bearer ")

    def json(self) -> Any:
        return orjson.loads(self.body)


class ProviderTokenCheck:
    """Verifies provider tokens as APNs does; a signature is checked once per token."""

    def __init__(
        self, credentials: ApnsCredentials, clock: Callable[[], datetime], max_age: timedelta
    ) -> None:
        self.credentials, self.clock, self.max_age = credentials, clock, max_age
        self._public_key = serialization.load_pem_public_key(credentials.public_key_pem.encode())
        self._verified: dict[str, int] = {}  # JWT -> iat

    def refusal(self, authorization: bytes | None) -> str | None:
        """Apple's 403 reason, or None for a token it would accept."""
        if not authorization or not authorization.startswith(b"bearer "):
            return "MissingProviderToken"
        token = authorization[7:].decode()
        iat = self._verified.get(token)
        if iat is None:
            try:
                header = jwt.get_unverified_header(token)
                claims = jwt.decode(
                    token,
                    self._public_key,  # type: ignore[arg-type]
                    algorithms=["ES256"],
                    options={"verify_iat": False, "require": ["iss", "iat"]},
                )
            except jwt.PyJWTError:
                return "InvalidProviderToken"
            if header.get("kid") != self.credentials.key_id:
                return "InvalidProviderToken"
            if claims["iss"] != self.credentials.team_id or not isinstance(claims["iat"], int):
                return "InvalidProviderToken"
            iat = self._verified[token] = claims["iat"]
        if self.clock().timestamp() - iat > self.max_age.total_seconds():
            return "ExpiredProviderToken"
        return None


def judge(headers: dict[bytes, bytes], body: bytes, app_topic: str) -> tuple[int, str | None]:
    """The status and reason APNs would give a request, in the order of Apple's table."""
    if headers.get(b":method") != b"POST":
        return 405, "MethodNotAllowed"
    path = headers.get(b":path", b"")
    if not path.startswith(b"/3/device/"):
        return 404, "BadPath"
    if not _DEVICE_PATH.match(path):
        return 400, "BadDeviceToken"
    topic = headers.get(b"apns-topic")
    if not topic:
        return 400, "MissingTopic"
    if topic.decode() != app_topic:
        return 400, "TopicDisallowed"
    push_type = headers.get(b"apns-push-type")
    if push_type is not None and push_type not in _PUSH_TYPES:
        return 400, "InvalidPushType"
    priority = headers.get(b"apns-priority", b"10")
    if priority not in (b"1", b"5", b"10") or (push_type == b"background" and priority == b"10"):
        return 400, "BadPriority"
    if len(headers.get(b"apns-collapse-id", b"")) > 64:
        return 400, "BadCollapseId"
    if not headers.get(b"apns-expiration", b"0").isdigit():
        return 400, "BadExpirationDate"
    if b"apns-id" in headers and not _is_uuid(headers[b"apns-id"]):
        return 400, "BadMessageId"
    if not body:
        return 400, "PayloadEmpty"
    if len(body) > MAX_PAYLOAD_BYTES:
        return 413, "PayloadTooLarge"
    return 200, None


def _is_uuid(value: bytes) -> bool:
    try:
        uuid.UUID(value.decode())
    except ValueError:
        return False
    return True
