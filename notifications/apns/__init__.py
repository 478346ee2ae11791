"""Apple Push Notification service: silent pushes to iOS devices (docs/adr/0008-apns-client.md)."""

from notifications.apns.config import PRODUCTION_URL, SANDBOX_URL, ApnsConfig
from notifications.apns.sender import ApnsSender

__all__ = ["PRODUCTION_URL", "SANDBOX_URL", "ApnsConfig", "ApnsSender"]
