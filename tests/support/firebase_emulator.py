"""Pytest plugin: a real Firebase Auth emulator for the test session.

Load it with `pytest_plugins = ["tests.support.firebase_emulator"]` and ask for `auth_emulator`.
The emulator comes from firebase-tools in the repo's node_modules (`npm ci` at the repo root).
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.support.processes import free_port, start_group, stop_group

REPO_ROOT = Path(__file__).resolve().parents[2]
FIREBASE_CLI = REPO_ROOT / "node_modules" / ".bin" / "firebase"
PROJECT_ID = "demo-focus"  # the "demo-" prefix keeps firebase-tools offline, no login needed
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 10
ADMIN = {"Authorization": "Bearer owner"}  # the emulator's stand-in for admin credentials


class AuthEmulator:
    """A running Auth emulator and the REST calls tests need (identitytoolkit v1)."""

    def __init__(self, host: str, http: httpx2.Client, project_id: str = PROJECT_ID) -> None:
        self.host = host
        self.project_id = project_id
        self._http = http

    def sign_up_anonymous(self) -> tuple[str, str]:
        """A new anonymous user: (uid, id_token)."""
        body = self._post("accounts:signUp", {"returnSecureToken": True})
        return str(body["localId"]), str(body["idToken"])

    def create_user(self, email: str, password: str, *, project_id: str | None = None) -> str:
        path = f"projects/{project_id or self.project_id}/accounts"
        return str(self._post(path, {"email": email, "password": password}, admin=True)["localId"])

    def sign_in(self, email: str, password: str) -> str:
        body = {"email": email, "password": password, "returnSecureToken": True}
        return str(self._post("accounts:signInWithPassword", body)["idToken"])

    def disable_user(self, uid: str) -> None:
        self._update(uid, {"disableUser": True})

    def delete_user(self, uid: str) -> None:
        self._post(f"projects/{self.project_id}/accounts:delete", {"localId": uid}, admin=True)

    def revoke_tokens(self, uid: str) -> None:
        """Revoke every token issued before this call.

        Revocation compares whole seconds (token iat < validSince), so first wait for the next
        second: otherwise a token issued earlier in this same second would stay valid.
        """
        time.sleep(1 - time.time() % 1)
        self._update(uid, {"validSince": str(int(time.time()))})

    def id_token_for_project(self, project_id: str) -> str:
        """A genuine emulator token whose aud/iss name another project."""
        email, password = f"{secrets.token_hex(6)}@example.com", secrets.token_urlsafe(12)
        self.create_user(email, password, project_id=project_id)
        # Only admin calls may choose the project; plain API-key calls get the default one.
        body = {"email": email, "password": password, "returnSecureToken": True}
        reply = self._post(
            "accounts:signInWithPassword", body | {"targetProjectId": project_id}, admin=True
        )
        return str(reply["idToken"])

    def forge_token(self, claims: dict[str, Any]) -> str:
        """An unsigned token shaped like the emulator's (alg "none"), with `claims` overriding
        valid defaults. firebase-admin checks no signature, exp or iat of emulator tokens."""
        now = int(time.time())
        payload = {
            "iss": f"https://securetoken.google.com/{self.project_id}",
            "aud": self.project_id,
            "sub": f"forged-{secrets.token_hex(6)}",
            "iat": now,
            "exp": now + 3600,
            "firebase": {"sign_in_provider": "anonymous", "identities": {}},
        } | claims
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."

    def delete_all_accounts(self, project_id: str | None = None) -> None:
        url = f"/emulator/v1/projects/{project_id or self.project_id}/accounts"
        self._http.delete(url).raise_for_status()

    def _update(self, uid: str, changes: dict[str, Any]) -> None:
        path = f"projects/{self.project_id}/accounts:update"
        self._post(path, {"localId": uid, **changes}, admin=True)

    def _post(self, path: str, body: dict[str, Any], *, admin: bool = False) -> dict[str, Any]:
        response = self._http.post(
            f"/identitytoolkit.googleapis.com/v1/{path}",
            params={"key": "any"},
            json=body,
            headers=ADMIN if admin else None,
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture(scope="session")
def auth_emulator() -> Iterator[AuthEmulator]:
    """Start the emulator once per session (per xdist worker) and point firebase-admin at it."""
    if not FIREBASE_CLI.exists():
        pytest.fail(
            f"{FIREBASE_CLI} is missing: run `npm ci` (or `npm install`) at the repo root",
            pytrace=False,
        )
    with tempfile.TemporaryDirectory(prefix="focus-auth-emulator-") as workdir:
        host = f"127.0.0.1:{free_port()}"
        process = _start(Path(workdir), host)
        try:
            with httpx2.Client(base_url=f"http://{host}", timeout=10) as http:
                _wait_until_ready(http, process, Path(workdir) / "emulator.log")
                with pytest.MonkeyPatch.context() as patch:
                    patch.setenv("FIREBASE_AUTH_EMULATOR_HOST", host)
                    yield AuthEmulator(host, http)
        finally:
            stop_group(process, STOP_TIMEOUT_SECONDS)


def _start(workdir: Path, host: str) -> subprocess.Popen[bytes]:
    # Hub and logging get free ports too, so parallel sessions (xdist, colleagues) never clash.
    loopback = "127.0.0.1"
    emulators = {
        "auth": {"host": loopback, "port": int(host.rsplit(":", 1)[1])},
        "hub": {"host": loopback, "port": free_port()},
        "logging": {"host": loopback, "port": free_port()},
        "ui": {"enabled": False},
        "singleProjectMode": False,  # id_token_for_project uses a second project
    }
    config = workdir / "firebase.json"
    config.write_text(json.dumps({"emulators": emulators}))
    command = [str(FIREBASE_CLI), "emulators:start", "--only", "auth"]
    command += ["--project", PROJECT_ID, "--config", str(config)]
    return start_group(command, workdir, workdir / "emulator.log")


def _wait_until_ready(http: httpx2.Client, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Auth emulator exited early:\n{log.read_text()}", pytrace=False)
        try:
            if http.get("/").json().get("authEmulator", {}).get("ready"):
                return
        except httpx2.TransportError:
            pass  # not listening yet
        time.sleep(0.2)
    pytest.fail(f"Auth emulator not ready after {START_TIMEOUT_SECONDS}s:\n{log.read_text()}")


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
