"""The eval of the Vertex AI provider: its recorded answers (`vertex_recordings.json`, synthetic
stand-ins until re-recorded, see `record_vertex.py`) served by the fake Vertex AI, the adapter
run on every synthetic user-week for both features, scored by the validation rules."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import pytest

from ai.vertex import VertexInsightProvider
from domain.ai.features import WeekFeatures
from domain.ai.ports import InvalidOutput
from domain.ai.prompt import Prompt
from domain.ai.validation import feature_numbers, validate_insight, validate_suggestion
from tests.support.fake_vertex import FakeVertex, RecordedRequest, isolated_fake_vertex
from tests.unit.ai.record_vertex import FEATURES, load, prompt_sha256, weeks

MIN_PASS_RATE = 0.95
RE_RECORD = "the prompt changed: re-record with `python -m tests.unit.ai.record_vertex`"


@pytest.fixture
def fake_vertex(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVertex]:
    with isolated_fake_vertex(monkeypatch) as fake:
        yield fake


def test_every_eval_week_and_feature_has_a_recording_of_its_current_prompt() -> None:
    recordings = load()["recordings"]
    all_weeks = weeks()

    assert len(recordings) == 2 * len(all_weeks)
    for recording in recordings:
        prompt = FEATURES[recording["feature"]](all_weeks[recording["week"]])
        assert recording["prompt_sha256"] == prompt_sha256(prompt), RE_RECORD


def test_synthetic_recordings_say_so() -> None:
    data = load()

    assert data["synthetic"] == ("SYNTHETIC" in data["about"])
    if data["synthetic"]:
        assert "record_vertex --project" in data["about"]


@pytest.mark.anyio
async def test_the_vertex_provider_passes_the_validation_rules_on_the_recorded_eval_set(
    fake_vertex: FakeVertex, capsys: pytest.CaptureFixture[str]
) -> None:
    data = load()
    by_prompt = {r["prompt_sha256"]: r["response"] for r in data["recordings"]}
    fake_vertex.respond_with(lambda request: by_prompt[_sha(request)])
    provider = VertexInsightProvider(fake_vertex.config(), credentials=fake_vertex.credentials())
    all_weeks = weeks()
    passed: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    replaced: set[tuple[int, str]] = set()
    try:
        for n, features in enumerate(all_weeks):
            for feature in FEATURES:
                violations = await _violations(provider, feature, features)
                passed[feature] += not violations
                failures.update(f"{feature}:{v}" for v in violations)
                if violations:
                    replaced.add((n, feature))
            caught = await _invented_number_caught(provider, features)
            passed["invented number caught"] += caught
    finally:
        await provider.aclose()

    planted = {(r["week"], r["feature"]) for r in data["recordings"] if r["planted"]}
    with capsys.disabled():
        print(
            f"\nEVAL {provider.name} recordings={'synthetic' if data['synthetic'] else 'real'} "
            f"weeks={len(all_weeks)} "
            + " ".join(f"{k.replace(' ', '_')}={v}/{len(all_weeks)}" for k, v in passed.items())
            + f" planted caught={len(planted & replaced)}/{len(planted)}"
            + f" failures={dict(sorted(failures.items()))}"
        )
    assert passed["weekly_insight"] >= MIN_PASS_RATE * len(all_weeks)
    assert passed["schedule_suggestion"] >= MIN_PASS_RATE * len(all_weeks)
    assert passed["invented number caught"] == len(all_weeks)
    assert planted <= replaced, "every planted failure is replaced by the local provider's"


async def _violations(
    provider: VertexInsightProvider, feature: str, features: WeekFeatures
) -> list[str]:
    """What the caller would refuse the answer for (an InvalidOutput included)."""
    try:
        if feature == "weekly_insight":
            return list(validate_insight(await provider.weekly_insight(features), features))
        return list(validate_suggestion(await provider.schedule_suggestion(features), features))
    except InvalidOutput as refused:
        return list(refused.violations)


async def _invented_number_caught(provider: VertexInsightProvider, features: WeekFeatures) -> bool:
    try:
        insight = await provider.weekly_insight(features)
    except InvalidOutput:
        return True
    invented = max(feature_numbers(features)) + 1
    return bool(validate_insight(replace(insight, text=f"{insight.text} {invented}"), features))


def _sha(request: RecordedRequest) -> str:
    return prompt_sha256(Prompt(request.system_text, request.user_text))
