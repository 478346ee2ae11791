"""Push services behind `domain.push.ports.PushSender`: APNs (iOS) and FCM (Android)."""
