"""Vertex AI's `generateContent` on a loopback port, answering in the real API's JSON shapes.

`POST /v1beta1/projects/{project}/locations/{location}/publishers/google/models/{model}
:generateContent` (the path google-genai builds for `vertexai=True`) wants the bearer token the
fake was made with (401 UNAUTHENTICATED otherwise) and the fake's project and location (404
otherwise). It answers `{"candidates": [{"content": {"role": "model", "parts": [{"text": ...}]},
"finishReason": "STOP"}], "usageMetadata": {...}, "modelVersion": ...}`; the text is a valid
answer for the schema asked for (`responseSchema` naming `days` means a suggestion), from a
`responder` (the eval's recordings), or scripted for the next requests: an error in Google's
error JSON (429 with `Retry-After`, 500, 503), a hang, a delay, any text, a SAFETY block.
Every request is recorded. Load it with `pytest_plugins = ["tests.support.fake_vertex"]` in
the root conftest and take the `fake_vertex` fixture (or enter `isolated_fake_vertex`); hand
the provider `config()` and `credentials()`.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast

import pytest
from google.oauth2.credentials import Credentials

from ai.vertex import VertexConfig

PROJECT = "fake-project"
LOCATION = "europe-west4"
ACCESS_TOKEN = "fake-vertex-access-token"
HANG_SECONDS = 30.0
INSIGHT_TEXT = json.dumps({"text": "You focused most on weekday mornings.", "numbers": []})
SUGGESTION_TEXT = json.dumps(
    {
        "days": ["mon", "wed"],
        "start_local": "09:00",
        "end_local": "11:00",
        "reason": "Protects the mornings you already use for focus.",
    }
)

_PATH = re.compile(
    r"^/v1beta1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
    r"/publishers/google/models/(?P<model>[^/:]+):generateContent$"
)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    """Names in lower case."""
    body: Any
    """The JSON body (None when it was not JSON)."""

    @property
    def model(self) -> str | None:
        match = _PATH.match(self.path)
        return match["model"] if match else None

    @property
    def user_text(self) -> str:
        return "".join(p.get("text", "") for c in self.body["contents"] for p in c["parts"])

    @property
    def system_text(self) -> str:
        return "".join(p.get("text", "") for p in self.body["systemInstruction"]["parts"])

    @property
    def generation_config(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.body.get("generationConfig", {}))


@dataclass(frozen=True, slots=True)
class Failure:
    """An error answer in Google's shape: `{"error": {code, message, status, details}}`."""

    status: int
    rpc_status: str
    message: str
    retry_after: str | None = None
    retry_delay: str | None = None
    """A `google.rpc.RetryInfo` detail's `retryDelay` ("2s")."""

    def body(self) -> bytes:
        details = (
            [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": self.retry_delay}]
            if self.retry_delay
            else []
        )
        error = {
            "code": self.status,
            "message": self.message,
            "status": self.rpc_status,
            "details": details,
        }
        return json.dumps({"error": error}).encode()


RESOURCE_EXHAUSTED = Failure(
    429,
    "RESOURCE_EXHAUSTED",
    "Resource exhausted. Please try again later. Please refer to "
    "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.",
)
INTERNAL = Failure(500, "INTERNAL", "Internal error encountered.")
UNAVAILABLE = Failure(503, "UNAVAILABLE", "The service is currently unavailable.")
UNAUTHENTICATED = Failure(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
NOT_FOUND = Failure(404, "NOT_FOUND", "Requested entity was not found.")


@dataclass(frozen=True, slots=True)
class Reply:
    """A 200 answer: the candidate's text, or none when blocked."""

    text: str | None
    finish_reason: str = "STOP"
    delay_seconds: float = 0.0
    prompt_blocked: bool = False


SAFETY_BLOCK = Reply(None, "SAFETY")
PROMPT_BLOCK = Reply(None, prompt_blocked=True)
Scripted = Failure | Reply | float  # a float: no answer for that many seconds (a hang)
Responder = Callable[[RecordedRequest], Mapping[str, Any]]
"""Gives a whole generateContent response body for a request (recordings)."""


@dataclass
class _Script:
    next: deque[Scripted] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    responder: Responder | None = None


class FakeVertex:
    def __init__(self, project: str = PROJECT, location: str = LOCATION) -> None:
        self.project = project
        self.location = location
        self._script = _Script()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server = _Server(self)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), name="fake-vertex"
        )

    def config(self, **changes: Any) -> VertexConfig:
        """A provider's configuration pointing at this fake."""
        return VertexConfig(
            **{"project": self.project, "location": self.location, "base_url": self.base_url}
            | changes
        )

    @staticmethod
    def credentials() -> Credentials:
        """A static bearer token this fake accepts: nothing is refreshed, nothing fetched."""
        return Credentials(token=ACCESS_TOKEN)  # type: ignore[no-untyped-call]

    # Scripting

    def fail_next(self, failure: Failure, count: int = 1) -> None:
        self._push(failure, count)

    def reply_next(self, reply: Reply | str, count: int = 1) -> None:
        self._push(Reply(reply) if isinstance(reply, str) else reply, count)

    def hang_next(self, count: int = 1, seconds: float = HANG_SECONDS) -> None:
        """The next `count` requests get no answer for `seconds` (until the fake stops)."""
        self._push(seconds, count)

    def respond_with(self, responder: Responder) -> None:
        """Answer every unscripted request with `responder`'s body."""
        with self._lock:
            self._script.responder = responder

    def _push(self, scripted: Scripted, count: int) -> None:
        with self._lock:
            self._script.next.extend([scripted] * count)

    # What happened

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._script.requests)

    @property
    def answers(self) -> list[dict[str, Any]]:
        """The 200 answers' bodies, in order."""
        with self._lock:
            return list(self._script.answers)

    # Life

    def start(self) -> FakeVertex:
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
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> FakeVertex:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # Answers (called from the server's threads)

    def _answer(self, request: RecordedRequest) -> tuple[int, dict[str, str], bytes] | float:
        with self._lock:
            self._script.requests.append(request)
            match = _PATH.match(request.path)
            if request.method != "POST" or match is None:
                return _failure(NOT_FOUND)
            if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
                return _failure(UNAUTHENTICATED)
            if (match["project"], match["location"]) != (self.project, self.location):
                return _failure(NOT_FOUND)
            scripted = self._script.next.popleft() if self._script.next else None
            responder = self._script.responder
        match scripted:
            case float() | int():
                return float(scripted)
            case Failure():
                return _failure(scripted)
            case Reply(delay_seconds=delay) if delay:
                self._stopping.wait(delay)
        if scripted is None and responder is not None:
            body = dict(responder(request))
        else:
            reply = scripted if isinstance(scripted, Reply) else Reply(_default_text(request))
            body = generate_content_response(
                reply, prompt_text=request.system_text + request.user_text, model=request.model
            )
        with self._lock:
            self._script.answers.append(body)
        return 200, {}, json.dumps(body).encode()

    def _opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _hang(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def generate_content_response(
    reply: Reply,
    *,
    prompt_text: str,
    model: str | None = None,
    thoughts_tokens: int = 0,
    response_id: str = "fake-response",
) -> dict[str, Any]:
    """A generateContent body as Vertex sends it; tokens counted as about four characters."""
    prompt_tokens = _tokens(prompt_text)
    output_tokens = _tokens(reply.text or "")
    usage = {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": prompt_tokens + output_tokens + thoughts_tokens,
        "trafficType": "ON_DEMAND",
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
        "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": output_tokens}],
    }
    if thoughts_tokens:
        usage["thoughtsTokenCount"] = thoughts_tokens
    if not output_tokens:
        del usage["candidatesTokenCount"], usage["candidatesTokensDetails"]
    body: dict[str, Any] = {
        "usageMetadata": usage,
        "modelVersion": model or "gemini-2.5-flash",
        "createTime": "2026-03-09T08:00:00.000000Z",
        "responseId": response_id,
    }
    if reply.prompt_blocked:
        body["promptFeedback"] = {
            "blockReason": "PROHIBITED_CONTENT",
            "blockReasonMessage": "The prompt was blocked.",
        }
        return body
    candidate: dict[str, Any] = {"finishReason": reply.finish_reason}
    if reply.text is not None:
        candidate["content"] = {"role": "model", "parts": [{"text": reply.text}]}
        candidate["avgLogprobs"] = -0.21
    if reply.finish_reason == "SAFETY":
        candidate["safetyRatings"] = [
            {
                "category": "HARM_CATEGORY_HARASSMENT",
                "probability": "HIGH",
                "probabilityScore": 0.91,
                "severity": "HARM_SEVERITY_MEDIUM",
                "severityScore": 0.62,
                "blocked": True,
            }
        ]
    body["candidates"] = [candidate]
    return body


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _default_text(request: RecordedRequest) -> str:
    schema = request.generation_config.get("responseSchema", {})
    return SUGGESTION_TEXT if "days" in schema.get("properties", {}) else INSIGHT_TEXT


def _failure(failure: Failure) -> tuple[int, dict[str, str], bytes]:
    headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
    return failure.status, headers, failure.body()


class _Server(ThreadingHTTPServer):
    def __init__(self, fake: FakeVertex) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's pool expects

    @property
    def fake(self) -> FakeVertex:
        return cast(_Server, self.server).fake

    def setup(self) -> None:
        super().setup()
        self.fake._opened(self.connection)

    def finish(self) -> None:
        self.fake._closed(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        answer = self.fake._answer(RecordedRequest(self.command, self.path, headers, body))
        if isinstance(answer, float):
            self.fake._hang(answer)
            self.close_connection = True
            return
        status, extra_headers, content = answer
        with contextlib.suppress(OSError):  # the client may have given up already
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(content)))
            for name, value in extra_headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(content)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the requests are recorded instead."""


@contextlib.contextmanager
def isolated_fake_vertex(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVertex]:
    """A running fake, in an environment where nothing else can be reached: no API key, no
    default credentials, no metadata server, no proxy."""
    for name in (
        "GOOGLE_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_GENAI_USE_VERTEXAI",
        "GOOGLE_GENAI_API_VERSION",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")  # refused at once if ever asked
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with FakeVertex() as fake:
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", fake.project)
        monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", fake.location)
        yield fake


@pytest.fixture
def fake_vertex(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVertex]:
    """A fresh, isolated fake Vertex AI per test (it starts in a millisecond)."""
    with isolated_fake_vertex(monkeypatch) as fake:
        yield fake
