"""Erasures that outlive a database restore.

A restore brings back the rows of every user erased after the dump was taken — and the erased
list with them, as it was then. So erasure also leaves a mark outside the database: an empty
file `privacy/erased/<subject hash>` in the bucket (which a database restore does not touch),
naming the subject only by the keyed hash. `focus privacy reapply-erasures` reads the marks,
finds the accounts whose uid hashes to one, puts them back on the erased list at once (the API
refuses them from then on) and erases them again through an ordinary, audited request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from domain.files import FileStore
from domain.privacy.model import SYSTEM, Channel, RequestKind, Verification
from domain.privacy.ports import PrivacyStore
from privacy.requests import PrivacyRequests

log = logging.getLogger("focus.privacy")

MARKS = "privacy/erased/"
REAPPLIED = "reapplied_after_restore"
_BATCH = 5_000


def mark_key(subject_hash: str) -> str:
    return f"{MARKS}{subject_hash}"


@dataclass(frozen=True, slots=True)
class Reapplied:
    marks: int
    """Erasures the bucket remembers."""
    scanned: int
    """Accounts the database holds."""
    erased_again: list[str]
    """The ids of the requests that erase them again."""


class Restores:
    def __init__(
        self,
        requests: PrivacyRequests,
        store: Callable[[], PrivacyStore],
        files: FileStore,
    ) -> None:
        self._requests = requests
        self._store = store
        self._files = files

    async def remember(self, subject_hash: str) -> None:
        """The mark of an erasure (idempotent)."""
        await self._files.put(mark_key(subject_hash), b"", "text/plain")

    async def reapply(self) -> Reapplied:
        marks = {key.removeprefix(MARKS) for key in await self._files.list(MARKS)}
        found: list[str] = []
        scanned, after = 0, ""
        while True:
            async with self._store() as store:
                uids = await store.user_ids(after, _BATCH)
            if not uids:
                break
            scanned += len(uids)
            found += [uid for uid in uids if self._requests.subject_hash(uid) in marks]
            after = uids[-1]
        reopened = []
        for uid in found:
            verification = Verification(REAPPLIED, SYSTEM, self._requests.now())
            opened = await self._requests.open(
                RequestKind.ERASURE, uid, by=SYSTEM, channel=Channel.SUPPORT,
                verification=verification, erase_list_now=True,
            )  # fmt: skip
            reopened.append(str(opened.request.id))
        log.info("privacy.erasures_reapplied", extra={"marks": len(marks), "found": len(found)})
        return Reapplied(len(marks), scanned, reopened)
