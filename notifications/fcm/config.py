"""What the FCM sender needs to know, built from settings by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from google.auth.credentials import Credentials

FCM_BASE_URL = "https://fcm.googleapis.com"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


@dataclass(frozen=True, slots=True)
class FcmConfig:
    project_id: str
    """The Firebase project the apps' registration tokens belong to."""
    credentials_file: Path | None = None
    """A service account key (JSON)."""
    credentials: Credentials | None = None
    """Ready-made google-auth credentials of any kind; wins over `credentials_file`. With
    neither, the Application Default Credentials (on Cloud Run: the service's own account)."""
    base_url: str = FCM_BASE_URL
    """Tests point this at a loopback fake."""
    timeout_seconds: float = 10.0
    """For each HTTP exchange (connect, write, read), with FCM and with the token endpoint."""
    http2: bool = True
    """FCM speaks HTTP/2 over TLS: one connection carries concurrent sends. Plain `http://`
    (a loopback fake) stays HTTP/1.1 whatever this says."""

    def __post_init__(self) -> None:
        if not self.project_id:
            raise ValueError("project_id is needed: FCM's URL names the Firebase project")
        if not self.base_url.startswith(("https://", "http://")):
            raise ValueError(f"an FCM base URL is http(s)://host[:port], not {self.base_url!r}")
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
