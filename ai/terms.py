"""What a person agrees to before a third-party provider writes their insights (Apple's App
Review guideline 5.1.2(i)): the provider named, what is sent, what is not. The app shows this
text (`GET /v1/ai/consents`); a change of substance is a new version, which asks again."""

from __future__ import annotations

from domain.ai.consent import ProviderTerms

LOCAL_TERMS = ProviderTerms(
    provider="local",
    display_name="Focus",
    text_version=1,
    text="Your insights and suggestions are written on our own servers from your week's "
    "numbers. Nothing is shared with anyone else.",
    third_party=False,
)

VERTEX_TERMS = ProviderTerms(
    provider="vertex-gemini",
    display_name="Google Gemini (Vertex AI)",
    text_version=1,
    text="To write your weekly insight and schedule suggestions, we send Google (Gemini on "
    "Vertex AI, in the EU) your week's numbers only: minutes of focus by weekday and hour, how "
    "many sessions you started, completed and abandoned, and when your schedules block. Never "
    "your name, email, blocklists, apps, websites or anything you typed. Google does not use "
    "it to train its models. Without your permission, or after you withdraw it, we write them "
    "on our own servers instead.",
)
