"""Wire shapes of devices. `DevicePut`'s schema states the cross-field rule the domain checks:
an iOS push token needs its `apns_environment`; Android has none.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import ConfigDict, Field

from api.schemas import (
    RequestModel,
    ResponseModel,
    Timezone,
    UtcDatetime,
    document_input_rules,
)
from domain.devices.model import (
    INSTALLATION_ID_PATTERN,
    ApnsEnvironment,
    Device,
    DeviceRegistration,
    Platform,
)

InstallationIdPath = Annotated[
    str,
    Path(
        pattern=f"^{INSTALLATION_ID_PATTERN}$",
        description="The app's own id of this installation: 8-128 of [A-Za-z0-9._:-]",
        examples=["a1b2c3d4e5f6"],
    ),
]


APNS_ENVIRONMENT = "#/components/schemas/ApnsEnvironment"


def _push_target_rules(schema: dict[str, Any]) -> None:
    """What the domain checks across fields, stated for client generators (JSON Schema 2020-12):
    an iOS push token needs its APNs environment; Android has none."""
    document_input_rules(schema)
    ios_token = {
        "properties": {"platform": {"const": "ios"}, "push_token": {"type": "string"}},
        "required": ["platform", "push_token"],
    }
    schema["allOf"] = [
        {
            "if": ios_token,
            "then": {
                "required": ["apns_environment"],
                "properties": {
                    "apns_environment": {"$ref": "#/components/schemas/ApnsEnvironment"}
                },
            },
        },
        {
            "if": {"properties": {"platform": {"const": "android"}}, "required": ["platform"]},
            "then": {"properties": {"apns_environment": {"type": "null"}}},
        },
    ]


class DevicePut(RequestModel):
    model_config = ConfigDict(json_schema_extra=_push_target_rules)

    platform: Platform
    app_version: str = Field(min_length=1, max_length=32, examples=["4.2.0"])
    push_token: str | None = Field(
        default=None,
        max_length=4096,
        description="iOS: the APNs device token (hex); Android: the FCM registration token",
        # The domain checks it against the platform (and names `invalid_push_token`).
        json_schema_extra={"pattern": r"^([0-9a-fA-F]{64,200}|[A-Za-z0-9_:-]{100,4096})$"},
    )
    apns_environment: ApnsEnvironment | None = Field(
        default=None, description="iOS only: where the APNs token is valid"
    )
    os_version: str | None = Field(default=None, max_length=32)
    timezone: Timezone | None = None

    def to_registration(self) -> DeviceRegistration:
        return DeviceRegistration(
            platform=self.platform,
            app_version=self.app_version,
            push_token=self.push_token,
            apns_environment=self.apns_environment,
            os_version=self.os_version,
            timezone=self.timezone,
        )


class DeviceOut(ResponseModel):
    installation_id: str
    platform: Platform
    push_token: str | None
    apns_environment: ApnsEnvironment | None
    app_version: str
    os_version: str | None
    timezone: str | None
    last_seen_at: UtcDatetime
    version: int
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def of(cls, device: Device) -> DeviceOut:
        return cls.model_validate(device)


class DeviceList(ResponseModel):
    items: list[DeviceOut]
