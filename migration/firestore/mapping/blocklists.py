"""`users/{uid}/blocklists/{autoId}` ↔ Blocklist.

The layout keeps items in three arrays (apps, sites, categories): items come back in that
order, whatever order the entity had them in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.blocklists.model import (
    MAX_ITEMS_PER_BLOCKLIST,
    MAX_NAME_LENGTH,
    BlockItem,
    Blocklist,
    ItemKind,
    normalise_item,
)
from domain.errors import ValidationFailed
from migration.firestore.layout import BLOCKLISTS, QuarantineReason, record_id
from migration.firestore.mapping.common import (
    MappingContext,
    Unmappable,
    backend_fields,
    check_not_orphan,
    note_unknown,
    stamps,
    trimmed_name,
    version_of,
)

KNOWN = ("name", "apps", "sites", "categories", "createdAt", "updatedAt")
DEFAULT_NAME = "Blocklist"
_APP_KINDS = (ItemKind.ANDROID_PACKAGE, ItemKind.IOS_TOKEN)


def from_document(
    uid: str,
    doc_id: str,
    data: dict[str, Any],
    *,
    create_time: dt.datetime,
    update_time: dt.datetime,
    context: MappingContext,
) -> Blocklist:
    check_not_orphan(context)
    note_unknown(data, KNOWN, context, BLOCKLISTS)
    created_at, updated_at = stamps(data, context, BLOCKLISTS, create_time, update_time)
    return Blocklist(
        id=record_id(uid, BLOCKLISTS, doc_id),
        user_id=uid,
        name=trimmed_name(data.get("name"), DEFAULT_NAME, MAX_NAME_LENGTH),
        items=items_of(data, context),
        version=version_of(data),
        created_at=created_at,
        updated_at=updated_at,
    )


def to_document(blocklist: Blocklist) -> dict[str, Any]:
    def values(*kinds: ItemKind) -> list[str]:
        return [item.value for item in blocklist.items if item.kind in kinds]

    return {
        "name": blocklist.name,
        "apps": values(*_APP_KINDS),
        "sites": values(ItemKind.WEB_DOMAIN),
        "categories": values(ItemKind.CATEGORY),
        "createdAt": blocklist.created_at,
        "updatedAt": blocklist.updated_at,
        **backend_fields(blocklist.version),
    }


def items_of(data: dict[str, Any], context: MappingContext) -> tuple[BlockItem, ...]:
    """Apps, sites, categories in that order; invalid entries and duplicates dropped, 500 kept.

    An array that is not one is quarantined: a blocklist silently blocking less than its user
    chose is worse than a visible quarantine.
    """
    kept: dict[BlockItem, None] = {}
    for name, kinds in (
        ("apps", _APP_KINDS),
        ("sites", (ItemKind.WEB_DOMAIN,)),
        ("categories", (ItemKind.CATEGORY,)),
    ):
        entries = data.get(name)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise Unmappable(QuarantineReason.WRONG_TYPE, name)
        for entry in entries:
            item = _item(entry, kinds)
            if item is None:
                context.note(f"{BLOCKLISTS}.{name}:dropped")
            elif item in kept:
                context.note(f"{BLOCKLISTS}.{name}:duplicate")
            else:
                kept[item] = None
    if len(kept) > MAX_ITEMS_PER_BLOCKLIST:
        context.note(f"{BLOCKLISTS}.items:beyond_cap")
    return tuple(kept)[:MAX_ITEMS_PER_BLOCKLIST]


def _item(entry: Any, kinds: tuple[ItemKind, ...]) -> BlockItem | None:
    if not isinstance(entry, str):
        return None
    for kind in kinds:
        try:
            return normalise_item(BlockItem(kind, entry), "value")
        except ValidationFailed:
            continue
    return None
