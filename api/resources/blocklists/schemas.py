"""Wire shapes of blocklists: create, merge-patch (`items`, when sent, replaces the list), out.

They check form only; the domain normalises items, drops duplicates and enforces the caps.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import Field

from api.schemas import PageOut, RequestModel, ResponseModel, UtcDatetime, not_null
from domain.blocklists.model import (
    MAX_NAME_LENGTH,
    BlockItem,
    Blocklist,
    BlocklistChanges,
    BlocklistDraft,
    ItemKind,
)
from domain.errors import ValidationFailed

_VALUE_DESCRIPTION = (
    "ios_token: base64 Screen Time token (≤ 4 KiB decoded); android_package: e.g. "
    "com.instagram.android; web_domain: a hostname, stored lower-case in ASCII (IDNA) form; "
    "category: social, games, entertainment, news, shopping, productivity or other"
)


class BlockItemIn(RequestModel):
    kind: ItemKind
    value: str = Field(min_length=1, max_length=8192, description=_VALUE_DESCRIPTION)

    def to_item(self) -> BlockItem:
        return BlockItem(self.kind, self.value)


class BlocklistCreate(RequestModel):
    """Up to 500 distinct items; duplicates (after normalisation) are dropped, not refused."""

    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, examples=["Social media"])
    items: list[BlockItemIn] = Field(default_factory=list)

    def to_draft(self) -> BlocklistDraft:
        return BlocklistDraft(self.name, [i.to_item() for i in self.items])


class BlocklistPatch(RequestModel):
    """JSON merge patch: only the fields sent change; `items`, when sent, replaces the list."""

    name: str | None = Field(
        default=None, min_length=1, max_length=MAX_NAME_LENGTH, json_schema_extra=not_null
    )
    items: list[BlockItemIn] | None = Field(default=None, json_schema_extra=not_null)

    def to_changes(self) -> BlocklistChanges:
        values: dict[str, Any] = {}
        for name in ("name", "items"):
            if name in self.model_fields_set:
                if getattr(self, name) is None:
                    raise ValidationFailed.on(name, "required", f"{name} cannot be null")
                values[name] = getattr(self, name)
        if "items" in values:
            values["items"] = [i.to_item() for i in values["items"]]
        return BlocklistChanges(values)


class BlockItemOut(ResponseModel):
    kind: ItemKind
    value: str


class BlocklistOut(ResponseModel):
    id: UUID
    name: str
    items: list[BlockItemOut]
    version: int
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def of(cls, blocklist: Blocklist) -> BlocklistOut:
        return cls.model_validate(blocklist)


class BlocklistPage(PageOut):
    items: list[BlocklistOut]
