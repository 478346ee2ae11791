"""The eval: the local provider on every synthetic user-week, scored by the validation rules."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from ai.local import LocalProvider
from domain.ai.features import week_features
from domain.ai.prompt import insight_prompt, suggestion_prompt
from domain.ai.validation import feature_numbers, validate_insight, validate_suggestion
from tests.unit.ai.eval_set import SEED, user_weeks

MIN_PASS_RATE = 0.95


def test_the_eval_set_is_large_varied_and_the_same_for_the_same_seed() -> None:
    weeks = user_weeks()

    assert len(weeks) >= 50
    assert len({w.kind for w in weeks}) >= 5
    assert any(not w.sessions for w in weeks)
    assert user_weeks() == weeks
    assert user_weeks(SEED + 1) != weeks


@pytest.mark.anyio
async def test_the_local_provider_passes_the_validation_rules_on_the_eval_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    provider = LocalProvider()
    weeks = user_weeks()
    insight_pass = suggestion_pass = caught = 0
    failures: Counter[str] = Counter()
    for week in weeks:
        features = week_features(week.sessions, week.schedules, week.week_start)
        for prompt in (insight_prompt(features), suggestion_prompt(features)):
            assert f"Focused minutes in total: {features.total_minutes}" in prompt.user
        written = await provider.weekly_insight(features)
        insight = validate_insight(written, features)
        invented = max(feature_numbers(features)) + 1
        caught += bool(
            validate_insight(replace(written, text=f"{written.text} {invented}"), features)
        )
        suggestion = validate_suggestion(await provider.schedule_suggestion(features), features)
        insight_pass += not insight
        suggestion_pass += not suggestion
        failures.update(f"{week.kind}:{v}" for v in (*insight, *suggestion))

    with capsys.disabled():
        print(
            f"\nEVAL {provider.name} seed={SEED} weeks={len(weeks)} "
            f"insight pass={insight_pass}/{len(weeks)} "
            f"suggestion pass={suggestion_pass}/{len(weeks)} "
            f"invented number caught={caught}/{len(weeks)} "
            f"failures={dict(sorted(failures.items()))}"
        )
    assert insight_pass >= MIN_PASS_RATE * len(weeks)
    assert suggestion_pass >= MIN_PASS_RATE * len(weeks)
    assert caught == len(weeks)
