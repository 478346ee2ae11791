"""The soak test's actors: app users writing through the API, an old app writing Firestore with
its changes pushed to the legacy sync as the Cloud Function would, a ledger of what the system
acknowledged, and a cuttable link to Firestore (tests/integration/migration/test_soak.py)."""

from __future__ import annotations

import contextlib
import random
import socket
import string
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx2
import psycopg
from google.cloud import firestore

from functions.legacy_change import LegacyChange
from migration.firestore.layout import BLOCKLISTS, record_id
from tests.integration.migration.old_app import encoded, legacy_sync_push

PUSH_DEADLINE_SECONDS = 90
"""Pub/Sub retries a push for days; the soak gives up (and fails) after this."""


@dataclass(frozen=True)
class Ack:
    """A blocklist state the system acknowledged: `version` None for an API delete (204)."""

    uid: str
    record: str
    version: int | None
    name: str | None
    deleted: bool
    source: str


@dataclass
class Ledger:
    acks: list[Ack] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    documents: dict[str, str] = field(default_factory=dict)
    """Record id → its Firestore document id, where they differ (the old app's auto-ids)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, ack: Ack) -> None:
        with self._lock:
            self.acks.append(ack)

    def path(self, uid: str, record: str) -> str:
        return f"users/{uid}/{BLOCKLISTS}/{self.documents.get(record, record)}"

    def refuse(self, what: str) -> None:
        with self._lock:
            self.refused[what] = self.refused.get(what, 0) + 1

    def problem(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)


@dataclass
class Actor:
    """A thread that acts until stopped and can be held still (`pause`, then `idle`)."""

    rng: random.Random
    ledger: Ledger
    stop: threading.Event = field(default_factory=threading.Event)
    paused: threading.Event = field(default_factory=threading.Event)
    idle: threading.Event = field(default_factory=threading.Event)
    steps: int = 0

    def run(self) -> None:
        while not self.stop.is_set():
            if self.paused.is_set():
                self.idle.set()
                time.sleep(0.02)
                continue
            self.idle.clear()
            try:
                self.step()
            except Exception as error:  # the soak reports it, with the seed, at the end
                self.ledger.problem(f"{type(self).__name__} crashed: {error!r}")
                self.stop.set()
            self.steps += 1
        self.idle.set()

    def step(self) -> None:
        raise NotImplementedError


@dataclass
class ApiWriter(Actor):
    """One app user creating, renaming, deleting and listing blocklists through the API."""

    url: str = ""
    uid: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)

    def step(self) -> None:
        with httpx2.Client(base_url=self.url, headers=self.headers, timeout=5) as http:
            try:
                self._one(http, self.rng.random())
            except httpx2.TransportError:
                self.ledger.refuse("connection")
                time.sleep(0.1)  # the server is down: a phone would back off too

    def _one(self, http: httpx2.Client, roll: float) -> None:
        name = f"{self.uid[-4:]} {self.steps} {self.rng.randrange(1000)}"
        if roll < 0.3 or not self.known:
            items = [{"kind": "web_domain", "value": f"s{self.rng.randrange(9)}.example.com"}]
            response = http.post("/v1/blocklists", json={"name": name, "items": items})
            if self._acknowledged(response, 201):
                body = response.json()
                self.known.add(body["id"])
                self._ack(body["id"], body["version"], name)
        elif roll < 0.65:
            list_id = self.rng.choice(sorted(self.known))
            response = http.patch(f"/v1/blocklists/{list_id}", json={"name": name})
            if self._acknowledged(response, 200):
                self._ack(list_id, response.json()["version"], name)
        elif roll < 0.8:
            list_id = self.rng.choice(sorted(self.known))
            response = http.delete(f"/v1/blocklists/{list_id}")
            if self._acknowledged(response, 204):
                self.known.discard(list_id)
                self.ledger.ack(Ack(self.uid, list_id, None, None, True, "api"))
        else:
            response = http.get("/v1/blocklists", params={"limit": 100})
            if self._acknowledged(response, 200):
                self.known = {item["id"] for item in response.json()["items"]}

    def _ack(self, list_id: str, version: int, name: str) -> None:
        self.ledger.ack(Ack(self.uid, list_id, version, name, False, "api"))

    def _acknowledged(self, response: httpx2.Response, expected: int) -> bool:
        status = response.status_code
        if status == expected:
            return True
        self.ledger.refuse(f"{response.request.method} {status}")
        if status == 404:
            self.known.clear()  # another device deleted it: list again
        elif status < 500 and status not in (409, 412, 429):
            self.ledger.problem(f"{response.request.method} {response.url}: {response.text}")
        return False


@dataclass
class OldApp(Actor):
    """Old app versions writing users' blocklists in Firestore directly (create, a one-field
    `update` that keeps `_v`/`_writer`, a whole-document `set` that drops them, delete). Each
    write is a transaction that reads the document first (the trigger's `before`); its change is
    then pushed to /internal/pubsub/legacy-sync, per user in order, until acknowledged, and the
    Postgres row it left is recorded."""

    url: str = ""
    uids: list[str] = field(default_factory=list)
    client: firestore.Client | None = None
    database_url: str = ""
    pushes: int = 0

    def step(self) -> None:
        assert self.client is not None
        uid = self.rng.choice(self.uids)
        folder = self.client.collection(f"users/{uid}/{BLOCKLISTS}")
        live = sorted(doc.id for doc in folder.stream() if "deletedAt" not in (doc.to_dict() or {}))
        roll = self.rng.random()
        if roll < 0.3 or not live:
            doc_id, kind = (
                "".join(self.rng.choices(string.ascii_letters + string.digits, k=20)),
                "create",
            )
        else:
            doc_id = self.rng.choice(live)
            kind = "update" if roll < 0.6 else "set" if roll < 0.85 else "delete"
        name = f"old {self.steps} {self.rng.randrange(1000)}"
        change = self._write(f"users/{uid}/{BLOCKLISTS}/{doc_id}", kind, name)
        if change is not None:
            self.push(change)
            self._record(uid, doc_id)

    def _write(self, path: str, kind: str, name: str) -> LegacyChange | None:
        assert self.client is not None
        ref = self.client.document(path)
        transaction = self.client.transaction()
        now = datetime.now(UTC)
        write = firestore.transactional(lambda tx: legacy_write(tx, ref, kind, name, now))
        before, after, created = write(transaction)
        if before is None and after is None:
            return None
        # The new update_time of a write, the commit's time of a delete (functions/main.py).
        results = transaction.write_results or []
        at = transaction.commit_time if after is None else results[0].update_time
        assert at is not None, f"{path}: a commit without a time"
        return LegacyChange.of(
            path=path,
            before=before,
            after=after,
            update_time=at,
            create_time=at if created is None else created,
            event_id=str(uuid.UUID(int=self.rng.getrandbits(128))),
        )

    def create_profile(self, uid: str) -> None:
        """A legacy user's profile document, as every legacy user has one."""
        change = self._write(f"users/{uid}", "profile", "")
        assert change is not None
        self.push(change)

    def push(self, change: LegacyChange) -> None:
        """As Pub/Sub pushes: again (with backoff) until the endpoint answers 2xx."""
        data, message_id = encoded(change), uuid.uuid4().hex
        deadline = time.monotonic() + PUSH_DEADLINE_SECONDS
        for attempt in range(1, 10_000):
            body = legacy_sync_push(data, change.attributes, message_id=message_id, attempt=attempt)
            status = 0
            with contextlib.suppress(httpx2.TransportError):
                status = httpx2.post(
                    f"{self.url}/internal/pubsub/legacy-sync", json=body
                ).status_code
            if 200 <= status < 300:
                self.pushes += 1
                return
            self.ledger.refuse(f"push {status or 'connection'}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{change.path} never acknowledged (last status {status})")
            time.sleep(min(2.0, 0.1 * attempt))

    def _record(self, uid: str, doc_id: str) -> None:
        """The Postgres row the acknowledged change left (an API write may have won the race)."""
        record = str(record_id(uid, BLOCKLISTS, doc_id))
        if record != doc_id:
            self.ledger.documents[record] = doc_id
        with psycopg.connect(self.database_url) as conn:
            row = conn.execute(
                "SELECT version, name, deleted_at IS NOT NULL FROM blocklists"
                " WHERE user_id = %s AND id = %s",
                (uid, record),
            ).fetchone()
        if row is None:
            self.ledger.problem(f"users/{uid}/{BLOCKLISTS}/{doc_id}: acknowledged, not in Postgres")
            return
        version, name, deleted = row
        self.ledger.ack(
            Ack(uid, record, int(version), None if deleted else str(name), bool(deleted), "legacy")
        )


Written = tuple[dict[str, Any] | None, dict[str, Any] | None, datetime | None]
"""The document before and after an old app's write, and its create_time (None: new)."""


def legacy_write(tx: Any, ref: Any, kind: str, name: str, now: datetime) -> Written:
    """The old app's write inside a transaction that read the document first."""
    snapshot = ref.get(transaction=tx)
    before = snapshot.to_dict() if snapshot.exists else None
    if kind == "create":
        after: dict[str, Any] | None = legacy_blocklist(name, now)
        tx.create(ref, after)
    elif kind == "profile":
        after = {"timezone": "Europe/Paris", "createdAt": now, "updatedAt": now}
        tx.create(ref, after)
    elif before is None or "deletedAt" in before:
        return None, None, None  # gone since it was listed: nothing written
    elif kind == "update":  # one field: `_v` and `_writer` stay
        after = {**before, "name": name, "updatedAt": now}
        tx.update(ref, {"name": name, "updatedAt": now})
    elif kind == "set":  # the whole document as the old app knows it: `_v`, `_writer` gone
        after = {k: v for k, v in before.items() if not k.startswith("_")}
        after |= {"name": name, "updatedAt": now}
        tx.set(ref, after)
    else:
        after = None
        tx.delete(ref)
    return before, after, snapshot.create_time


def legacy_blocklist(name: str, now: datetime) -> dict[str, Any]:
    return {
        "name": name,
        "apps": ["com.instagram.android"],
        "sites": ["reddit.com"],
        "categories": ["social"],
        "createdAt": now,
        "updatedAt": now,
    }


class Link:
    """A TCP relay to Firestore that can be cut: while cut every connection through it is closed
    and new ones are closed at once, so its clients find Firestore unreachable; nothing stored is
    lost, as with a real outage (the emulator's own stop loses what it acknowledged between its
    export and its exit)."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self._target = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.host = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._up = threading.Event()
        self._up.set()
        self._closed = threading.Event()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def cut(self) -> None:
        self._up.clear()
        self._close_all()

    def restore(self) -> None:
        self._up.set()

    def close(self) -> None:
        self._closed.set()
        self._close_all()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                near, _ = self._listener.accept()
            except TimeoutError:
                continue
            if not self._up.is_set():
                near.close()
                continue
            try:
                far = socket.create_connection(self._target, timeout=5)
                far.settimeout(None)
            except OSError:
                near.close()
                continue
            with self._lock:
                self._open |= {near, far}
            for source, sink in ((near, far), (far, near)):
                thread = threading.Thread(target=self._pump, args=(source, sink), daemon=True)
                thread.start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        for end in (source, sink):
            self._discard(end)

    def _discard(self, end: socket.socket) -> None:
        with self._lock:
            self._open.discard(end)
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)
        end.close()

    def _close_all(self) -> None:
        with self._lock:
            ends = list(self._open)
        for end in ends:
            self._discard(end)
