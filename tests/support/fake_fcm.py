"""FCM HTTP v1 and Google's OAuth2 token endpoint on a loopback port, answering as Google does.

`POST /v1/projects/{project}/messages:send` wants a bearer token this fake issued (401
UNAUTHENTICATED otherwise) and answers `{"name": "projects/{project}/messages/{n}"}`, or a
scripted failure in Google's error JSON (per token, or for the next requests). `POST /token`
takes a service account's JWT-bearer grant and issues a token. Every request is recorded.

HTTP/1.1 from a thread: the sender's client speaks HTTP/2 only over TLS, so it meets the
fake as it meets any plain-HTTP server. Load it with `pytest_plugins = ["tests.support.fake_fcm"]`
and take the `fake_fcm` fixture.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import urllib.parse
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.fcm_errors import INVALID_ARGUMENT, NOT_FOUND, UNAUTHENTICATED, Failure
from tests.support.google import service_account

PROJECT_ID = "fake-project"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
HANG_SECONDS = 30.0

_SEND_PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/messages:send$")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    """Names in lower case."""
    body: Any
    """The JSON body; for `/token`, the form with the assertion's claims decoded."""


@dataclass
class _Script:
    by_token: dict[str, Failure] = field(default_factory=dict)
    next: deque[Failure | Literal["hang"]] = field(default_factory=deque)
    issued: list[str] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)
    requests: list[RecordedRequest] = field(default_factory=list)
    sent: int = 0


class FakeFcm:
    def __init__(self, project_id: str = PROJECT_ID) -> None:
        self.project_id = project_id
        self._script = _Script()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server = _Server(self)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        self.token_uri = f"{self.base_url}/token"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), name="fake-fcm"
        )

    # Scripting

    def fail_token(self, token: str, failure: Failure) -> None:
        """Every send to `token` fails so."""
        with self._lock:
            self._script.by_token[token] = failure

    def fail_next(self, failure: Failure, count: int = 1) -> None:
        """The next `count` sends fail so, whatever their token."""
        with self._lock:
            self._script.next.extend([failure] * count)

    def hang_next(self, count: int = 1) -> None:
        """The next `count` sends get no answer (until the fake stops): a read timeout."""
        with self._lock:
            self._script.next.extend(["hang"] * count)

    def accept_token(self, access_token: str) -> None:
        """Take a bearer token this fake did not issue (credentials made with a token)."""
        with self._lock:
            self._script.accepted.add(access_token)

    def revoke_tokens(self) -> None:
        """Refuse every bearer token issued so far (401 UNAUTHENTICATED)."""
        with self._lock:
            self._script.accepted.clear()

    def service_account_file(self, folder: Path, key: rsa.RSAPrivateKey) -> Path:
        """A service account key file whose token endpoint is this fake."""
        account = {**service_account(key, self.project_id), "token_uri": self.token_uri}
        path = folder / "fcm-service-account.json"
        path.write_text(json.dumps(account))
        return path

    # What happened

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._script.requests)

    @property
    def sends(self) -> list[RecordedRequest]:
        return [r for r in self.requests if _SEND_PATH.match(r.path)]

    @property
    def token_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/token"]

    @property
    def issued_tokens(self) -> list[str]:
        with self._lock:
            return list(self._script.issued)

    # Life

    def start(self) -> FakeFcm:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # wake handlers waiting on kept-alive connections
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._server.server_close()  # joins the handler threads
        self._thread.join()

    def __enter__(self) -> FakeFcm:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # Answers (called from the server's threads)

    def _answer(self, request: RecordedRequest) -> tuple[int, dict[str, str], bytes] | None:
        with self._lock:
            self._script.requests.append(request)
            if request.path == "/token":
                return self._issue_token(request)
            match = _SEND_PATH.match(request.path)
            if request.method != "POST" or match is None:
                return _failure(NOT_FOUND)
            scripted = self._script.next.popleft() if self._script.next else None
            if scripted == "hang":
                return None
            if _bearer(request.headers) not in self._script.accepted:
                return _failure(UNAUTHENTICATED)
            if match["project"] != self.project_id:
                return _failure(NOT_FOUND)
            token = _message_token(request.body)
            if token is None:
                return _failure(replace(INVALID_ARGUMENT, message="Invalid JSON payload"))
            failure = (
                scripted if isinstance(scripted, Failure) else self._script.by_token.get(token)
            )
            if failure is not None:
                return _failure(failure)
            self._script.sent += 1
            name = f"projects/{self.project_id}/messages/0:{self._script.sent}"
            return 200, {}, json.dumps({"name": name}).encode()

    def _issue_token(self, request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        form = request.body
        if form.get("grant_type") != JWT_BEARER or not form.get("assertion"):
            return 400, {}, json.dumps({"error": "invalid_grant"}).encode()
        access_token = f"fake-access-{len(self._script.issued) + 1}"
        self._script.issued.append(access_token)
        self._script.accepted.add(access_token)
        answer = {"access_token": access_token, "expires_in": 3600, "token_type": "Bearer"}
        return 200, {}, json.dumps(answer).encode()

    def _opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _hang(self) -> None:
        self._stopping.wait(HANG_SECONDS)


def _failure(failure: Failure) -> tuple[int, dict[str, str], bytes]:
    headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
    return failure.status, headers, failure.body()


def _bearer(headers: Mapping[str, str]) -> str | None:
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    return credentials if scheme.lower() == "bearer" and credentials else None


def _message_token(body: Any) -> str | None:
    message = body.get("message") if isinstance(body, dict) else None
    token = message.get("token") if isinstance(message, dict) else None
    return token if isinstance(token, str) and token else None


def _decode_body(path: str, raw: bytes) -> Any:
    if path == "/token":
        form: dict[str, Any] = {k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        with contextlib.suppress(jwt.PyJWTError):
            form["assertion"] = jwt.decode(form["assertion"], options={"verify_signature": False})
        return form
    try:
        return json.loads(raw)
    except ValueError:
        return None


class _Server(ThreadingHTTPServer):
    def __init__(self, fake: FakeFcm) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the sender's pool expects

    @property
    def fake(self) -> FakeFcm:
        return cast(_Server, self.server).fake

    def setup(self) -> None:
        super().setup()
        self.fake._opened(self.connection)

    def finish(self) -> None:
        self.fake._closed(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._respond()

    def do_POST(self) -> None:
        self._respond()

    def _respond(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = RecordedRequest(self.command, self.path, headers, _decode_body(self.path, raw))
        answer = self.fake._answer(request)
        if answer is None:
            self.fake._hang()
            self.close_connection = True
            return
        status, extra_headers, body = answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra_headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the requests are recorded instead."""


@pytest.fixture
def fake_fcm() -> Iterator[FakeFcm]:
    """A fresh fake FCM per test (it starts in a millisecond)."""
    with FakeFcm() as fake:
        yield fake
