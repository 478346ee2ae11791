"""Consent to AI features, per person, feature and provider, as a ledger (Apple's App Review
guideline 5.1.2(i): name the third-party AI provider and ask before personal data goes to it).

Each grant records which provider and which version of the text the person agreed to, and
when; a revocation is recorded, never an edit. A call to a third-party provider needs the
person's current grant for that feature, that provider and the provider's current text: a new
text asks again. The local provider runs on our own servers and needs none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.ai.budgets import AiFeature


@dataclass(frozen=True, slots=True)
class ProviderTerms:
    provider: str
    """Its id in the ledger and metrics (e.g. `vertex-gemini`)."""
    display_name: str
    """What the app shows (e.g. "Google Gemini (Vertex AI)")."""
    text_version: int
    text: str
    """What the person agrees to: who receives what, for which feature."""
    third_party: bool = True


@dataclass(frozen=True, slots=True)
class ConsentEntry:
    feature: AiFeature
    provider: str
    text_version: int
    granted: bool
    """A grant, or a revocation."""
    at: datetime


def current(entries: Sequence[ConsentEntry], feature: AiFeature, terms: ProviderTerms) -> bool:
    """Whether the ledger's latest word for this feature and provider is a grant of the
    provider's current text (a provider of our own needs none); `entries` in the ledger's
    order, oldest first."""
    if not terms.third_party:
        return True
    relevant = [e for e in entries if e.feature is feature and e.provider == terms.provider]
    if not relevant:
        return False
    # The latest by time; of entries at the same instant, the later in the ledger's order.
    _, latest = max(enumerate(relevant), key=lambda numbered: (numbered[1].at, numbered[0]))
    return latest.granted and latest.text_version == terms.text_version


class ConsentLedger(Protocol):
    async def record(self, uid: str, entry: ConsentEntry) -> None:
        """Appends the entry (never changes an earlier one)."""
        ...

    async def entries(self, uid: str) -> Sequence[ConsentEntry]:
        """The person's entries, oldest first."""
        ...
