"""A user's blocklists: named sets of apps, sites and categories that schedules block.

Duplicates are removed, not refused: the apps' pickers hand over overlapping selections, and
`Example.COM` and `example.com` are one site. Items are compared after normalisation and the
first occurrence keeps its place; the 500-item cap counts the items that remain.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.errors import FieldProblem, LimitExceeded, ValidationFailed

MAX_BLOCKLISTS_PER_USER = 50
MAX_ITEMS_PER_BLOCKLIST = 500
MAX_NAME_LENGTH = 80
MAX_IOS_TOKEN_BYTES = 4096
MAX_ANDROID_PACKAGE_LENGTH = 255
MAX_WEB_DOMAIN_LENGTH = 253
MAX_REPORTED_PROBLEMS = 50
"""Invalid items named at most: 5,000 bad items get a short answer; `detail` counts them all."""

# Java package names: dot-separated identifiers, each starting with a letter (Android requires
# at least two segments for an application id). Used with `fullmatch`: `$` would also match
# before a final newline.
_ANDROID_PACKAGE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+")
_LDH_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_NOT_A_HOSTNAME = re.compile(r"[/:?#@\s\\]")


class ItemKind(StrEnum):
    IOS_TOKEN = "ios_token"  # noqa: S105 (a kind of item, not a secret)
    """An opaque token from Apple's Screen Time API (FamilyControls), base64."""
    ANDROID_PACKAGE = "android_package"
    WEB_DOMAIN = "web_domain"
    CATEGORY = "category"


class Category(StrEnum):
    SOCIAL = "social"
    GAMES = "games"
    ENTERTAINMENT = "entertainment"
    NEWS = "news"
    SHOPPING = "shopping"
    PRODUCTIVITY = "productivity"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class BlockItem:
    kind: ItemKind
    value: str


@dataclass(frozen=True, slots=True)
class Blocklist:
    id: UUID
    user_id: str
    name: str
    items: tuple[BlockItem, ...]
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class BlocklistDraft:
    """What a client sends to create a blocklist."""

    name: str
    items: Sequence[BlockItem] = ()


@dataclass(frozen=True, slots=True)
class BlocklistChanges:
    """A merge patch: only the fields a client sent (`name`, `items`) are set."""

    values: dict[str, Any] = field(default_factory=dict)

    def apply_to(self, blocklist: Blocklist) -> Blocklist:
        changed = blocklist
        if "name" in self.values:
            changed = replace(changed, name=validate_name(self.values["name"]))
        if "items" in self.values:
            changed = replace(changed, items=validate_items(self.values["items"]))
        return changed


def validate_name(name: str, field_name: str = "name") -> str:
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= MAX_NAME_LENGTH:
        raise ValidationFailed.on(
            field_name, "invalid_name", f"1-{MAX_NAME_LENGTH} characters, not only spaces"
        )
    return cleaned


def validate_items(items: Iterable[BlockItem]) -> tuple[BlockItem, ...]:
    """Each item normalised and checked (every invalid one reported), duplicates dropped."""
    kept: dict[BlockItem, None] = {}
    problems: list[FieldProblem] = []
    invalid_items = 0
    for index, item in enumerate(items):
        try:
            kept.setdefault(normalise_item(item, f"items.{index}.value"), None)
        except ValidationFailed as invalid:
            invalid_items += 1
            if len(problems) < MAX_REPORTED_PROBLEMS:
                problems.extend(invalid.problems)
    if problems:
        detail = problems[0].message if invalid_items == 1 else f"{invalid_items} items invalid"
        raise ValidationFailed(detail=detail, problems=problems)
    if len(kept) > MAX_ITEMS_PER_BLOCKLIST:
        raise LimitExceeded(
            code="too_many_blocklist_items",
            detail=f"a blocklist holds at most {MAX_ITEMS_PER_BLOCKLIST} distinct items",
        )
    return tuple(kept)


def normalise_item(item: BlockItem, field_name: str) -> BlockItem:
    match item.kind:
        case ItemKind.IOS_TOKEN:
            return BlockItem(item.kind, _ios_token(item.value, field_name))
        case ItemKind.ANDROID_PACKAGE:
            return BlockItem(item.kind, _android_package(item.value, field_name))
        case ItemKind.WEB_DOMAIN:
            return BlockItem(item.kind, web_domain(item.value, field_name))
        case ItemKind.CATEGORY:
            return BlockItem(item.kind, _category(item.value, field_name))


def _ios_token(value: str, field_name: str) -> str:
    # Four base64 characters carry three bytes: anything longer cannot decode to ≤ 4 KiB.
    if len(value) > (MAX_IOS_TOKEN_BYTES + 2) // 3 * 4:
        raise _too_large(field_name)
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed.on(
            field_name, "invalid_ios_token", "an iOS token is standard, padded base64"
        ) from exc
    if not decoded:
        raise ValidationFailed.on(field_name, "invalid_ios_token", "an iOS token cannot be empty")
    if len(decoded) > MAX_IOS_TOKEN_BYTES:
        raise _too_large(field_name)
    return value


def _too_large(field_name: str) -> ValidationFailed:
    return ValidationFailed.on(
        field_name,
        "ios_token_too_large",
        f"an iOS token decodes to at most {MAX_IOS_TOKEN_BYTES} bytes",
    )


def _android_package(value: str, field_name: str) -> str:
    if len(value) > MAX_ANDROID_PACKAGE_LENGTH or not _ANDROID_PACKAGE.fullmatch(value):
        raise ValidationFailed.on(
            field_name,
            "invalid_android_package",
            "a package name such as com.example.app: two or more dot-separated segments of "
            "letters, digits or '_', each starting with a letter",
        )
    return value


def web_domain(value: str, field_name: str = "value") -> str:
    """The hostname lower-cased, in its ASCII (IDNA A-label) form: `Bücher.de` → `xn--bcher-kva.de`.

    Python's codec implements IDNA 2003; the LDH check after it refuses what that codec lets
    through but a hostname cannot hold (`_`, spaces, leading hyphens).
    """

    def invalid(why: str) -> ValidationFailed:
        return ValidationFailed.on(field_name, "invalid_web_domain", why)

    if _NOT_A_HOSTNAME.search(value):
        raise invalid("a hostname only, such as example.com: no scheme, path, port or spaces")
    try:
        ascii_name = value.lower().encode("idna").decode("ascii").lower()
        ascii_name.encode("ascii").decode("idna")  # `xn--` labels must be valid punycode
    except UnicodeError as exc:
        raise invalid("not a valid internationalised hostname") from exc
    labels = ascii_name.split(".")
    if len(labels) < 2 or len(ascii_name) > MAX_WEB_DOMAIN_LENGTH:
        raise invalid(f"a hostname with at least one dot, at most {MAX_WEB_DOMAIN_LENGTH} chars")
    if not all(_LDH_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise invalid("labels of letters, digits and inner hyphens; no IP addresses")
    return ascii_name


def _category(value: str, field_name: str) -> str:
    if value not in {c.value for c in Category}:
        raise ValidationFailed.on(
            field_name, "unknown_category", f"one of: {', '.join(c.value for c in Category)}"
        )
    return value


def check_blocklist_cap(live_blocklists: int) -> None:
    if live_blocklists >= MAX_BLOCKLISTS_PER_USER:
        raise LimitExceeded(
            code="too_many_blocklists",
            detail=f"at most {MAX_BLOCKLISTS_PER_USER} blocklists per user; delete one first",
        )
