"""Writes `vertex_recordings.json`: one generateContent answer per eval week and feature.

    python -m tests.unit.ai.record_vertex --project P [--location L] [--model M]
        asks the real Vertex AI (Application Default Credentials: `gcloud auth
        application-default login`) with the provider's own request, and records the raw bodies.
    python -m tests.unit.ai.record_vertex --synthetic
        writes seeded stand-ins in the model's style instead, with no network: varied phrasing,
        JSON of the schema, and a few failures planted as a model makes them (a computed
        decimal, a rambling text, a markdown-fenced answer), so the eval shows they are caught.

The committed file is the synthetic one until someone re-records it with access to Vertex AI;
its `synthetic` flag and `about` say which it is. Each recording carries its prompt's sha256:
when the prompt changes, the eval asks for a re-recording.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
from pathlib import Path
from typing import Any

from ai.vertex import INSIGHT_RESPONSE_SCHEMA, SUGGESTION_RESPONSE_SCHEMA, generation_config
from domain.ai.features import DAYS, WeekFeatures, week_features
from domain.ai.prompt import Prompt, insight_prompt, suggestion_prompt
from tests.support.fake_vertex import Reply, generate_content_response
from tests.unit.ai.eval_set import SEED, user_weeks

PATH = Path(__file__).with_name("vertex_recordings.json")
SYNTHETIC_SEED = 20260309
FEATURES = {"weekly_insight": insight_prompt, "schedule_suggestion": suggestion_prompt}
SYNTHETIC_ABOUT = (
    "SYNTHETIC STAND-INS, not answers of the real model: written by "
    "`python -m tests.unit.ai.record_vertex --synthetic` (seeded) in Gemini's style, with "
    "planted failures (see each recording's `planted`). Replace them with real answers by "
    "running `python -m tests.unit.ai.record_vertex --project P` with Vertex AI credentials."
)
DASH = "\N{EN DASH}"  # as the model writes ranges
_NAMES = dict(
    zip(
        DAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)


def prompt_sha256(prompt: Prompt) -> str:
    return hashlib.sha256(f"{prompt.system}\n{prompt.user}".encode()).hexdigest()


def load() -> dict[str, Any]:
    return json.loads(PATH.read_text())  # type: ignore[no-any-return]


def weeks() -> list[WeekFeatures]:
    return [week_features(w.sessions, w.schedules, w.week_start) for w in user_weeks()]


def synthetic() -> dict[str, Any]:
    rng = random.Random(SYNTHETIC_SEED)
    all_weeks = weeks()
    with_focus = [n for n, f in enumerate(all_weeks) if f.best_window is not None]
    plants = {
        "weekly_insight": dict(
            zip(rng.sample(with_focus, 2), ("computed_decimal", "too_long"), strict=True)
        ),
        "schedule_suggestion": dict(
            zip(rng.sample(with_focus, 2), ("markdown_fenced", "computed_decimal"), strict=True)
        ),
    }
    recordings = []
    for n, features in enumerate(all_weeks):
        for feature, make_prompt in FEATURES.items():
            prompt = make_prompt(features)
            plant = plants[feature].get(n)
            write = _insight_text if feature == "weekly_insight" else _suggestion_text
            reply = Reply(write(features, rng, plant))
            body = generate_content_response(
                reply,
                prompt_text=prompt.system + prompt.user,
                thoughts_tokens=rng.randint(60, 640),
                response_id=f"{rng.getrandbits(64):016x}",
            )
            recordings.append(_recording(n, feature, prompt, body, plant))
    return {"about": SYNTHETIC_ABOUT, "synthetic": True, "seed": SYNTHETIC_SEED} | _common(
        recordings
    )


def _insight_text(f: WeekFeatures, rng: random.Random, plant: str | None) -> str:
    w = f.best_window
    if w is None:
        text = rng.choice(
            (
                "No focus time was recorded this week. Starting with one short session on a "
                "quiet morning is an easy way back in.",
                "This week had no completed focus sessions yet. A single session is enough to "
                "get a picture of your best hours.",
            )
        )
        return json.dumps({"text": text, "numbers": []})
    days, rate = _days(w.days), f.completion_rate_percent
    first = rng.choice(
        (
            (
                f"Your focus peaked between {w.start_hour}:00 and {w.end_hour}:00 on {days}, "
                f"adding up to {w.minutes} minutes.",
                (w.start_hour, w.end_hour, w.minutes),
            ),
            (
                f"Your best block was {w.start_hour:02d}:00{DASH}{w.end_hour:02d}:00 "
                f"({w.minutes} minutes).",
                (w.start_hour, w.end_hour, w.minutes),
            ),
            (
                f"Most of your deep work landed in the {w.start_hour}{DASH}{w.end_hour} window "
                f"on {days}.",
                (w.start_hour, w.end_hour),
            ),
        )
    )
    second = rng.choice(
        (
            (
                f"You finished {f.sessions_completed} of {f.sessions_started} sessions ({rate}%).",
                (f.sessions_completed, f.sessions_started, rate),
            ),
            (
                f"You logged {f.total_minutes} focused minutes in total this week.",
                (f.total_minutes,),
            ),
            (
                f"Completion rate: {rate}% — {f.sessions_abandoned} ended early.",
                (rate, f.sessions_abandoned),
            ),
        )
    )
    text = f"{first[0]} {second[0]}"
    numbers = [*first[1], *second[1]]
    if plant == "computed_decimal":
        text += f" That is about {f.total_minutes / 60:.1f} hours of focus."
    if plant == "too_long":
        text += (
            " Consistency matters more than intensity, so try to keep this rhythm going, "
            "protect the same hours next week, silence notifications before you start, and "
            "remember that even the short sessions count toward building a lasting habit."
        )
    return json.dumps({"text": text, "numbers": list(dict.fromkeys(numbers))})


def _suggestion_text(f: WeekFeatures, rng: random.Random, plant: str | None) -> str:
    w = f.best_window
    if w is None:
        answer = {
            "days": rng.choice((["mon", "tue", "wed", "thu", "fri"], ["mon", "wed", "fri"])),
            "start_local": rng.choice(("08:00", "09:00")),
            "end_local": "10:30",
            "reason": "A short, regular morning block is an easy first focus habit to build.",
        }
        return json.dumps(answer)
    start = (w.start_hour - rng.choice((0, 0, 1))) % 24
    reason = rng.choice(
        (
            f"Blocks distractions during {w.start_hour}:00-{w.end_hour}:00, when you did "
            f"{w.minutes} minutes of focus.",
            f"Your {_days(w.days)} sessions cluster here, so guarding it keeps the habit going.",
            f"This is when you focused most this week: {w.minutes} minutes.",
        )
    )
    if plant == "computed_decimal":
        reason = f"Protects your best window, roughly {w.minutes / 60:.1f} hours of deep work."
    answer = {
        "days": [d.value for d in w.days],
        "start_local": f"{start:02d}:00",
        "end_local": f"{w.end_hour % 24:02d}:00",
        "reason": reason,
    }
    text = json.dumps(answer, indent=2 if rng.random() < 0.3 else None)
    return f"```json\n{text}\n```" if plant == "markdown_fenced" else text


def _days(days: tuple[Any, ...]) -> str:
    names = [_NAMES[d] for d in days]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _recording(
    n: int, feature: str, prompt: Prompt, body: dict[str, Any], plant: str | None
) -> dict[str, Any]:
    return {
        "week": n,
        "feature": feature,
        "prompt_sha256": prompt_sha256(prompt),
        "planted": plant,
        "response": body,
    }


def _common(recordings: list[dict[str, Any]]) -> dict[str, Any]:
    return {"eval_seed": SEED, "weeks": len(recordings) // 2, "recordings": recordings}


async def recorded(project: str, location: str, model: str) -> dict[str, Any]:
    """The real model's raw answers, asked exactly as the provider asks."""
    from google.genai import Client

    client = Client(vertexai=True, project=project, location=location)
    schemas = {"weekly_insight": INSIGHT_RESPONSE_SCHEMA}
    schemas["schedule_suggestion"] = SUGGESTION_RESPONSE_SCHEMA
    recordings = []
    for n, features in enumerate(weeks()):
        for feature, make_prompt in FEATURES.items():
            prompt = make_prompt(features)
            config = generation_config(prompt, schemas[feature], 60.0)
            config.should_return_http_response = True  # the raw body, as it came
            answer = await client.aio.models.generate_content(
                model=model, contents=prompt.user, config=config
            )
            assert answer.sdk_http_response is not None
            body = json.loads(answer.sdk_http_response.body or "{}")
            recordings.append(_recording(n, feature, prompt, body, None))
    await client.aio.aclose()
    about = f"Recorded from Vertex AI {model} in {location}."
    return {"about": about, "synthetic": False, "model": model} | _common(recordings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project")
    parser.add_argument("--location", default="europe-west4")
    parser.add_argument("--model", default="gemini-2.5-flash")
    parser.add_argument("--synthetic", action="store_true")
    args = parser.parse_args()
    if args.synthetic == bool(args.project):
        parser.error("give either --project or --synthetic")
    data = (
        synthetic()
        if args.synthetic
        else asyncio.run(recorded(args.project, args.location, args.model))
    )
    PATH.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(data['recordings'])} recordings to {PATH}")


if __name__ == "__main__":
    main()
