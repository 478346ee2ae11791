"""The bodies Google sends: a Pub/Sub push envelope (documented at
https://cloud.google.com/pubsub/docs/push#receive_push)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PubSubMessage(BaseModel):
    # Pub/Sub sends each name twice (`messageId` and `message_id`): take one, ignore the rest.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    data: str = ""
    """Base64 of the message body."""
    attributes: dict[str, str] = Field(default_factory=dict)
    message_id: str | None = Field(default=None, alias="messageId")


class PubSubPushEnvelope(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    message: PubSubMessage
    subscription: str = ""
    delivery_attempt: int | None = Field(default=None, alias="deliveryAttempt")
