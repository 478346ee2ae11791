"""The privacy audit trail's chain: each entry's hash covers its content and the previous
entry's hash, so that an entry edited, removed or inserted afterwards breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from domain.privacy.ports import AuditEntry

GENESIS = "0" * 64
"""The `prev_hash` of the first entry."""


def canonical(entry: AuditEntry) -> bytes:
    """The entry's content as the hash sees it: sorted keys, UTC instant, no whitespace."""
    content = {
        "actor": entry.actor,
        "action": entry.action,
        "request_id": str(entry.request_id) if entry.request_id else None,
        "subject_hash": entry.subject_hash,
        "at": entry.at.isoformat(timespec="microseconds"),
        "categories": list(entry.categories),
        "exemption": entry.exemption,
        "detail": dict(entry.detail),
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(entry)).hexdigest()


def first_break(chain: Iterable[tuple[AuditEntry, str, str]]) -> int | None:
    """The index of the first entry whose `(prev_hash, hash)` does not follow, else None."""
    expected_prev = GENESIS
    for index, (entry, prev_hash, hash_) in enumerate(chain):
        if prev_hash != expected_prev or chain_hash(prev_hash, entry) != hash_:
            return index
        expected_prev = hash_
    return None
