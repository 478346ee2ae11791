"""What the APNs sender needs to know, built from settings by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PRODUCTION_URL = "https://api.push.apple.com"
SANDBOX_URL = "https://api.sandbox.push.apple.com"


@dataclass(frozen=True, slots=True)
class ApnsConfig:
    key_id: str
    """The 10-character id of the .p8 signing key (the JWT's `kid`)."""
    team_id: str
    """The Apple Developer team id (the JWT's `iss`)."""
    topic: str
    """The app's bundle id (`apns-topic`)."""
    private_key_pem: str = field(repr=False)
    """The .p8 file's content: a PKCS#8 P-256 key in PEM."""
    production_url: str = PRODUCTION_URL
    sandbox_url: str = SANDBOX_URL
    ca_file: Path | str | None = None
    """Certificates to trust instead of the system's (a loopback fake's CA in tests)."""
    timeout_seconds: float = 10.0
    """For connecting, and for each request's answer."""
    provider_token_refresh_seconds: float = 40 * 60
    """Apple: refresh no more than once per 20 minutes; a token older than 60 is refused."""

    def __post_init__(self) -> None:
        if not 20 * 60 <= self.provider_token_refresh_seconds <= 55 * 60:
            raise ValueError("provider tokens are refreshed after 20 to 55 minutes (Apple's rule)")
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
