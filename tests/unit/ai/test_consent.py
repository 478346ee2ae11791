"""Whether a person's consent ledger allows a call to a provider for a feature: the latest
entry decides, it must be a grant of the provider's current text, per feature and provider;
our own provider needs none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.ai.budgets import AiFeature
from domain.ai.consent import ConsentEntry, ProviderTerms, current

INSIGHT, SUGGESTION = AiFeature.WEEKLY_INSIGHT, AiFeature.SCHEDULE_SUGGESTION
GEMINI = ProviderTerms("vertex-gemini", "Google Gemini (Vertex AI)", 2, "We send …")
LOCAL = ProviderTerms("local", "Focus", 1, "Computed on our servers.", third_party=False)
T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


def entry(minutes: int, *, granted: bool = True, version: int = 2, feature: AiFeature = INSIGHT,
          provider: str = "vertex-gemini") -> ConsentEntry:  # fmt: skip
    return ConsentEntry(feature, provider, version, granted, T0 + timedelta(minutes=minutes))


def test_nothing_recorded_is_no_consent_but_our_own_provider_needs_none() -> None:
    assert not current([], INSIGHT, GEMINI)
    assert current([], INSIGHT, LOCAL)


def test_the_latest_entry_decides_whatever_the_order_they_come_in() -> None:
    granted_then_revoked = [entry(5, granted=False), entry(0)]
    revoked_then_granted = [entry(0, granted=False), entry(5)]

    assert not current(granted_then_revoked, INSIGHT, GEMINI)
    assert current(revoked_then_granted, INSIGHT, GEMINI)


def test_a_new_text_asks_again() -> None:
    assert not current([entry(0, version=1)], INSIGHT, GEMINI)
    assert current([entry(0, version=1), entry(1, version=2)], INSIGHT, GEMINI)


def test_consent_is_per_feature_and_per_provider() -> None:
    ledger = [entry(0, feature=SUGGESTION), entry(1, provider="another")]

    assert not current(ledger, INSIGHT, GEMINI)
    assert current(ledger, SUGGESTION, GEMINI)


def test_of_entries_at_the_same_instant_the_later_in_the_ledger_decides() -> None:
    assert not current([entry(0), entry(0, granted=False)], INSIGHT, GEMINI)
    assert current([entry(0, granted=False), entry(0)], INSIGHT, GEMINI)
