"""`focus serve` settings that push live, to the loopback fakes of APNs and FCM."""

from __future__ import annotations

from pathlib import Path

from tests.support.apns_rules import ApnsCredentials
from tests.support.fake_apns import FakeApns
from tests.support.fake_fcm import FakeFcm
from tests.support.google import new_signing_key


def live_push_env(
    folder: Path, credentials: ApnsCredentials, apns: FakeApns, fcm: FakeFcm
) -> dict[str, str]:
    """APNs token auth against `apns` (both hosts), FCM HTTP v1 against `fcm`; the key and
    the service account are written to `folder`."""
    key_file = folder / "apns.p8"
    key_file.write_text(credentials.private_key_pem)
    fcm_account = fcm.service_account_file(folder, new_signing_key())
    return {
        "FOCUS_PUSH": "live",
        "FOCUS_APNS_KEY_ID": credentials.key_id,
        "FOCUS_APNS_TEAM_ID": credentials.team_id,
        "FOCUS_APNS_TOPIC": credentials.topic,
        "FOCUS_APNS_KEY_FILE": str(key_file),
        "FOCUS_APNS_PRODUCTION_URL": apns.url,
        "FOCUS_APNS_SANDBOX_URL": apns.url,
        "FOCUS_APNS_CA_FILE": str(apns.ca_file),
        "FOCUS_FCM_BASE_URL": fcm.base_url,
        "FOCUS_FCM_CREDENTIALS_FILE": str(fcm_account),
    }


def pubsub_stack_env(
    folder: Path, project_id: str, topic: str, credentials: ApnsCredentials, apns: FakeApns,
    fcm: FakeFcm,
) -> dict[str, str]:  # fmt: skip
    """Production's path on loopback: events through Pub/Sub's `topic` (the emulator), the
    relay and the task worker in the API's process, pushes live to the fakes, dev tokens
    (their secret under `folder/data`)."""
    return {
        "FOCUS_ENV": "test",
        "FOCUS_AUTH": "dev",
        "FOCUS_DATA_DIR": str(folder / "data"),
        "GOOGLE_CLOUD_PROJECT": project_id,
        "FOCUS_EVENTS": "pubsub",
        "FOCUS_PUBSUB_TOPIC": topic,
        "FOCUS_RELAY_IN_PROCESS": "true",
        **live_push_env(folder, credentials, apns, fcm),
        "FOCUS_TASKS": "postgres",
        "FOCUS_TASK_WORKER_IN_PROCESS": "true",
    }
