"""Silent pushes to Android through FCM HTTP v1 (docs/adr/0009-fcm-client.md)."""

from notifications.fcm.config import FcmConfig
from notifications.fcm.sender import FcmSender

__all__ = ["FcmConfig", "FcmSender"]
