"""The compliance console in a real browser: Debian's chromium driven by Playwright, `focus serve`
on a database of its own, staff added with `focus staff add`, app users seeded through the API.

Shared by the browser tests (tests/browser/conftest.py) and the screenshots script
(tests/browser/screenshots.py). Pages are driven as staff use them: by roles, labels and
button text, never by CSS classes.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import psycopg
from playwright.sync_api import (
    Browser,
    Locator,
    Page,
    Playwright,
    ViewportSize,
    expect,
)
from sqlalchemy.engine import make_url

from datastore.postgres.engine import create_engine
from datastore.postgres.schema import upgrade
from datastore.postgres.staff import PostgresStaffDirectory
from domain.staff import Role, add_staff
from identity.dev_issuer import DevTokenIssuer, load_or_create_secret
from tests.support.processes import free_port
from tests.support.server import FOCUS, FocusServe, running_focus_serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these chromium keeps calling home, and the network here is closed.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
TABLET: ViewportSize = {"width": 820, "height": 1180}
APP_HEADERS = {"X-Platform": "ios", "X-App-Version": "4.2.0"}
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CLI_TIMEOUT_SECONDS = 60
_REQUEST_PATH = re.compile(r"/console/requests/([0-9a-f-]{36})$")


class BrowserMissing(Exception):
    """Debian's chromium is not installed: `make install` installs it."""


def launch(playwright: Playwright) -> Browser:
    """Headless chromium from Debian (Playwright cannot download its own browsers here)."""
    if not CHROMIUM.exists():
        raise BrowserMissing(
            f"{CHROMIUM} is missing: run `make install` (it installs Debian's chromium: "
            "apt-get install --no-install-recommends chromium)"
        )
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


# --- The server and its database ------------------------------------------------------------


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, migrated database on `server_url`'s PostgreSQL, dropped on leaving."""
    name = f"focus_console_{uuid.uuid4().hex[:12]}"
    admin = make_url(server_url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Console:
    """`focus serve` on the dev staff sign-in, and what a developer beside it can do."""

    url: str
    env: dict[str, str]
    cwd: Path
    server: FocusServe | None = None

    def cli(self, *args: str) -> str:
        """`focus ARGS` with the server's configuration, in its folder: what it prints."""
        done = subprocess.run(
            [str(FOCUS), *args],
            cwd=self.cwd,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            command = " ".join(args)
            raise AssertionError(f"`focus {command}` exited {done.returncode}:\n{done.stderr}")
        return done.stdout

    def work_the_queue(self) -> str:
        """Runs what the task queue holds now (`focus tasks work --once`, as the on-call does)."""
        return self.cli("tasks", "work", "--once").strip()

    def app_token(self, uid: str) -> str:
        """What `focus dev token --uid UID` prints beside this server (its dev issuer's key)."""
        secret = load_or_create_secret(self.cwd / ".focus" / "dev-token-secret")
        return DevTokenIssuer(secret).issue(uid)


def console_env(database_url: str, port: int, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        # The links to exports are the server's own (the local file store's signed links).
        "FOCUS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "FOCUS_ENV": "dev",
        "FOCUS_AUTH": "dev",
        # Approving an erasure queues its run; a worker inside the server would race the
        # operator's Run button. The tests run the queue themselves (`focus tasks work --once`).
        "FOCUS_TASK_WORKER_IN_PROCESS": "false",
        **extra,
    }


@contextmanager
def console_server(database_url: str, cwd: Path, **extra: str) -> Iterator[Console]:
    port = free_port()
    env = console_env(database_url, port, **extra)
    cwd.mkdir(parents=True, exist_ok=True)
    with running_focus_serve(env, cwd, port=port) as server:
        yield Console(server.url, env, cwd, server)


# --- Staff --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    id: str
    email: str
    roles: tuple[str, ...]


@dataclass
class StaffPool:
    """Staff members by name (an email, or a name an email is made of), added at once.

    `focus staff add` spends seconds importing before it adds anyone (about 3 s here, on two
    cores): the members named in `by_cli` are added with it, started at once beside the server;
    the others through what that command calls (`add_staff` on the Postgres staff directory).
    `member(name)` waits for that one only."""

    console: Console
    by_cli: frozenset[str] = frozenset()
    started: dict[str, tuple[subprocess.Popen[str], str]] = field(default_factory=dict)
    added: dict[str, Member] = field(default_factory=dict)

    def start(self, wanted: dict[str, tuple[str, ...]]) -> None:
        direct = {}
        for name, roles in wanted.items():
            email = (
                name
                if "@" in name
                else f"{name.replace('_', '-')}-{uuid.uuid4().hex[:6]}@example.com"
            )
            if name not in self.by_cli:
                direct[name] = (email, roles)
                continue
            command = [str(FOCUS), "staff", "add", email, "--by", ADDED_BY, "--json"]
            for role in roles:
                command += ["--role", role]
            process = subprocess.Popen(
                command,
                cwd=self.console.cwd,
                env={**os.environ, **self.console.env},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            self.started[name] = (process, email)
        # In a thread of its own: Playwright's sync API may be running an event loop here.
        with ThreadPoolExecutor(1) as thread:
            url = self.console.env["DATABASE_URL"]
            self.added |= thread.submit(asyncio.run, _add_staff(url, direct)).result()

    def member(self, name: str) -> Member:
        if name not in self.added:
            process, email = self.started[name]
            out, err = process.communicate(timeout=CLI_TIMEOUT_SECONDS)
            if process.returncode != 0:
                status = process.returncode
                raise AssertionError(f"`focus staff add {email}` exited {status}:\n{err}")
            added = json.loads(out)
            self.added[name] = Member(added["id"], added["email"], tuple(added["roles"]))
        return self.added[name]

    def stop(self) -> None:
        for process, _ in self.started.values():
            if process.poll() is None:
                process.kill()
            process.communicate()


ADDED_BY = "console-tests"


async def _add_staff(
    database_url: str, wanted: dict[str, tuple[str, tuple[str, ...]]]
) -> dict[str, Member]:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    directory = PostgresStaffDirectory(engine)
    added = {}
    try:
        for name, (email, roles) in wanted.items():
            at = datetime.now(UTC)
            member = await add_staff(directory, email, [Role(r) for r in roles], by=ADDED_BY, at=at)
            added[name] = Member(member.id, member.email, tuple(sorted(member.roles)))
    finally:
        await engine.dispose()
    return added


def sign_in(browser: Browser, console: Console, member: Member) -> Page:
    """A browser context of the member's own, signed in through the dev sign-in form."""
    context = browser.new_context(base_url=console.url, viewport=LAPTOP)
    page = context.new_page()
    page.goto("/console/dev-sign-in")
    page.get_by_label("Staff email").fill(member.email)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Open requests")
    expect(page.get_by_text(f"Signed in as {member.email}")).to_be_visible()
    return page


# --- App users ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AppUser:
    uid: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **APP_HEADERS}


def app_user(console: Console, *, seeded: bool = True) -> AppUser:
    """A new app user; with `seeded`, records in most kinds of data the API writes."""
    uid = f"u-{uuid.uuid4().hex[:20]}"
    user = AppUser(uid, console.app_token(uid))
    if seeded:
        with httpx2.Client(base_url=console.url, headers=user.headers, timeout=10) as http:
            http.patch("/v1/me", json={"display_name": "Ada"}).raise_for_status()
            device = {
                "platform": "ios",
                "app_version": "4.2.0",
                "push_token": uuid.uuid4().hex * 2,
                "apns_environment": "production",
            }
            http.put("/v1/devices/install-0001", json=device).raise_for_status()
            blocklist = {"name": "Social", "items": [{"kind": "web_domain", "value": "x.com"}]}
            key = {"Idempotency-Key": uuid.uuid4().hex}
            http.post("/v1/blocklists", headers=key, json=blocklist).raise_for_status()
            session = {"planned_duration_minutes": 25}
            http.post("/v1/focus-sessions", json=session).raise_for_status()
    return user


def me_status(console: Console, user: AppUser) -> tuple[int, str]:
    """What the app API answers the user's token now: status and error code."""
    answer = httpx2.get(f"{console.url}/v1/me", headers=user.headers, timeout=10)
    code = answer.json().get("code", "") if answer.status_code >= 400 else ""
    return answer.status_code, code


# --- Pages --------------------------------------------------------------------------------


def open_request(
    page: Page,
    uid: str,
    kind: str,
    *,
    channel: str = "email",
    received_on: str = "",
    verified_by: str = "",
) -> str:
    """Opens a request on "New request" as an operator does: the new request's id."""
    page.get_by_role("navigation", name="Console").get_by_role("link", name="New request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New request")
    page.get_by_label("Subject's user id").fill(uid)
    page.get_by_label("Kind").select_option(kind)
    page.get_by_label("Channel").select_option(channel)
    if received_on:
        page.get_by_label("Received on").fill(received_on)
    if verified_by:
        page.get_by_label("Identity verified by").fill(verified_by)
    page.get_by_role("button", name="Open the request").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{kind.capitalize()} request")
    return request_id_of(page)


def request_id_of(page: Page) -> str:
    found = _REQUEST_PATH.search(page.url)
    assert found, page.url
    return found.group(1)


def verify(page: Page, method: str = "id_check") -> None:
    page.get_by_label("Verified by (method)").fill(method)
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(state_of(page)).to_have_text("verified")


def state_of(page: Page) -> Locator:
    """The request's state as its page says it ("State: <strong>…</strong>")."""
    return page.get_by_text("State:").locator("strong").first


def wait_until(page: Page, path: str, state: str, timeout: float = 30) -> None:
    """Reloads the request's page until it shows `state`."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(path)
        shown = state_of(page).inner_text()
        if shown == state:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} still {shown!r} after {timeout} s, not {state!r}")
        time.sleep(0.3)


def table_rows(table: Locator) -> list[dict[str, str]]:
    """A table's body rows as {column header: cell text}."""
    headers = table.locator("thead th").all_inner_texts()
    return [
        dict(zip(headers, row.locator(":scope > th, :scope > td").all_inner_texts(), strict=True))
        for row in table.locator("tbody > tr").all()
    ]


def steps_of(page: Page) -> list[dict[str, str]]:
    """The rows of the Steps table."""
    return table_rows(page.get_by_role("table", name="The steps of this request"))
