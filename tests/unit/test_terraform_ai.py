"""terraform/ai.tf: the AI feature hooks' infrastructure (ADR 0021), checked against the app.

The `ai` consumer gets a push subscription of its own on the events topic, configured as the
notifications' one (so an AI outage never holds pushes back); Cloud Scheduler starts the weekly
fan-out; focus-api alone may call Vertex AI, and only when it is the provider; its settings are
ones the app reads (see test_terraform.py for how the configuration is parsed).
"""

from __future__ import annotations

import re
from typing import Any

from ai.hooks import SUGGESTING_EVENTS, WEEKLY_TASK
from app.ai_wiring import AI_CONSUMER
from app.bootstrap import NOTIFICATIONS
from app.settings import AiProvider, Settings
from events.pubsub import subscription_filter
from tests.support.terraform import (
    API,
    PUBSUB_AGENT,
    SEVEN_DAYS,
    Terraform,
    api_env,
    containers,
    default,
    environment,
    grants,
    invoker_sa,
    members_of,
    one,
    ref,
    setting_names,
    strings,
    terraform,
)

SUBSCRIPTION_NAME = "focus-events-ai"
JOB_NAME = "focus-ai-weekly"
VERTEX_API = "aiplatform.googleapis.com"
VERTEX_ROLE = "roles/aiplatform.user"
AI_SETTINGS = {
    "FOCUS_AI_PROVIDER": "ai_provider",
    "FOCUS_AI_MODEL": "ai_model",
    "FOCUS_AI_LOCATION": "ai_location",
    "FOCUS_AI_DAILY_TOKENS_SOFT": "ai_daily_tokens_soft",
    "FOCUS_AI_DAILY_TOKENS_HARD": "ai_daily_tokens_hard",
}
"""Each environment variable focus-api gets -> the terraform variable that sets it."""
IAM_KINDS = ("_iam_member", "_iam_binding", "_iam_policy")


def push_subscription(tf: Terraform, consumer: str) -> tuple[str, dict[str, Any]]:
    """The one push subscription delivering to `consumer`: (its resource name, its body)."""
    path = f"/internal/pubsub/{consumer}"
    found = [
        (name, body)
        for name, body in tf.of_type("google_pubsub_subscription").items()
        if "push_config" in body and one(body, "push_config")["push_endpoint"].endswith(path)
    ]
    assert len(found) == 1, f"one push subscription should deliver to {path}"
    return found[0]


def weekly_job(tf: Terraform) -> dict[str, Any]:
    path = f"/internal/tasks/{WEEKLY_TASK}"
    found = [
        body
        for body in tf.of_type("google_cloud_scheduler_job").values()
        if one(body, "http_target")["uri"].endswith(path)
    ]
    assert len(found) == 1, f"one Scheduler job should call {path}"
    return found[0]


def only_with_vertex(tf: Terraform, body: dict[str, Any]) -> bool:
    """Whether the resource's `count` is 1 exactly when var.ai_provider is vertex (locals
    followed)."""
    count = str(body.get("count", ""))
    for name, value in tf.locals.items():
        if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
            count = re.sub(rf"\blocal\.{name}\b", f"({value[2:-1]})", count)
    return bool(re.fullmatch(r'\$\{\(?var\.ai_provider == "vertex"\)? \? 1 : 0\}', count))


def api_sa(tf: Terraform) -> str:
    return ref(
        one(tf.resource(*API), "template")["service_account"], "google_service_account", "email"
    )


# --- the `ai` consumer ---------------------------------------------------------------------


def test_the_ai_consumer_has_a_subscription_of_its_own_on_the_events_topic() -> None:
    tf = terraform()
    name, subscription = push_subscription(tf, AI_CONSUMER)
    notifications_name, notifications = push_subscription(tf, NOTIFICATIONS)
    # Not a second handler behind the notifications' endpoint: an outage of the hosted model
    # must not hold pushes back.
    assert name != notifications_name
    assert subscription["name"] == SUBSCRIPTION_NAME
    assert subscription["topic"] == notifications["topic"]
    assert ref(subscription["topic"], "google_pubsub_topic", "id") == "events"
    assert "filter" not in notifications  # every event: each change of a user's is pushed


def test_the_ai_subscription_delivers_only_the_events_the_consumer_acts_on() -> None:
    """Pub/Sub acknowledges the rest itself: they are never pushed to focus-api. The filter's
    syntax on the emulator: tests/integration/test_pubsub_publisher.py."""
    _, subscription = push_subscription(terraform(), AI_CONSUMER)
    assert subscription["filter"] == subscription_filter(SUGGESTING_EVENTS)


def test_it_calls_the_consumer_in_order_as_the_invoker_like_the_notifications() -> None:
    tf = terraform()
    env = api_env(tf)
    _, subscription = push_subscription(tf, AI_CONSUMER)
    _, notifications = push_subscription(tf, NOTIFICATIONS)
    push = one(subscription, "push_config")
    assert push["push_endpoint"] == (
        f"{env['FOCUS_CLOUD_TASKS_TARGET_URL']}/internal/pubsub/{AI_CONSUMER}"
    )
    oidc = one(push, "oidc_token")
    assert oidc["service_account_email"] == env["FOCUS_INTERNAL_INVOKER"]
    assert oidc["audience"] == env["FOCUS_INTERNAL_AUDIENCE"]
    assert subscription["enable_message_ordering"] is True
    assert subscription["message_retention_duration"] == SEVEN_DAYS
    assert one(subscription, "expiration_policy")["ttl"] == ""
    for same in ("ack_deadline_seconds", "message_retention_duration"):
        assert subscription[same] == notifications[same], same
    assert one(subscription, "retry_policy") == one(notifications, "retry_policy")


def test_its_dead_letters_go_where_the_notifications_go_after_as_many_attempts() -> None:
    tf = terraform()
    name, subscription = push_subscription(tf, AI_CONSUMER)
    _, notifications = push_subscription(tf, NOTIFICATIONS)
    policy = one(subscription, "dead_letter_policy")
    assert policy == one(notifications, "dead_letter_policy")
    assert policy["max_delivery_attempts"] == default("consumer_max_attempts") == 10
    dead = ref(policy["dead_letter_topic"], "google_pubsub_topic", "id")
    assert tf.resource("google_pubsub_topic", dead)["name"] == "focus-events-dead"

    def agent_holds(kind: str, key: str, target: str, role: str) -> bool:
        return any(
            grant[key] == target
            and grant["role"] == role
            and PUBSUB_AGENT.match(tf.expand(grant["member"]))
            for grant in grants(tf, kind)
        )

    # Pub/Sub's service agent acknowledges on this subscription and publishes the dead letter.
    assert agent_holds(
        "google_pubsub_subscription_iam_member",
        "subscription",
        f"${{google_pubsub_subscription.{name}.id}}",
        "roles/pubsub.subscriber",
    )
    assert agent_holds(
        "google_pubsub_topic_iam_member",
        "topic",
        f"${{google_pubsub_topic.{dead}.id}}",
        "roles/pubsub.publisher",
    )


# --- the weekly fan-out --------------------------------------------------------------------


def test_the_weekly_fan_out_is_called_every_monday_as_the_invoker() -> None:
    tf = terraform()
    env = api_env(tf)
    job = weekly_job(tf)
    assert job["name"] == JOB_NAME
    target = one(job, "http_target")
    assert target["uri"] == f"{env['FOCUS_CLOUD_TASKS_TARGET_URL']}/internal/tasks/{WEEKLY_TASK}"
    assert target["http_method"] == "POST"
    assert target["body"] == '${base64encode("{}")}'  # an empty JSON object
    oidc = one(target, "oidc_token")
    assert oidc["service_account_email"] == env["FOCUS_INTERNAL_INVOKER"]
    assert oidc["audience"] == env["FOCUS_INTERNAL_AUDIENCE"]
    assert job["time_zone"] == "Etc/UTC"
    # Mondays 12:00 UTC: the previous week has ended in every timezone (UTC-12 to UTC+14),
    # and no zone has reached the next Monday yet (ai/hooks.py takes "last week").
    assert job["schedule"] == "0 12 * * 1", "Mondays at 12:00 UTC"
    minute, hour, day, month, weekday = job["schedule"].split()
    assert f"{minute}{hour}".isdigit(), f"not once a day: {job['schedule']}"
    assert (day, month) == ("*", "*"), f"not weekly: {job['schedule']}"
    assert weekday.isdigit(), f"not weekly: {job['schedule']}"
    assert re.fullmatch(r"\d+s", job["attempt_deadline"])
    purge = next(
        body
        for body in tf.of_type("google_cloud_scheduler_job").values()
        if one(body, "http_target")["uri"].endswith("/internal/tasks/maintenance.purge")
    )
    assert one(job, "retry_config") == one(purge, "retry_config")


# --- Vertex AI -----------------------------------------------------------------------------


def test_the_vertex_ai_api_is_enabled_only_for_the_vertex_provider() -> None:
    tf = terraform()
    enabling = [
        body
        for body in tf.of_type("google_project_service").values()
        if VERTEX_API in strings(body)
    ]
    assert len(enabling) == 1, f"{VERTEX_API} should be enabled once"
    assert only_with_vertex(tf, enabling[0])
    assert enabling[0]["disable_on_destroy"] is False


def test_only_the_api_may_call_vertex_ai_and_only_for_the_vertex_provider() -> None:
    tf = terraform()
    found = [
        (kind, body)
        for kind, named in tf.resources.items()
        if kind.endswith(IAM_KINDS)
        for body in named.values()
        if any("aiplatform" in text for text in strings(body))
    ]
    assert len(found) == 1, f"one Vertex AI grant, not {len(found)}"
    kind, grant = found[0]
    assert kind == "google_project_iam_member"  # publisher models: project-level IAM only
    assert grant["role"] == VERTEX_ROLE
    assert grant["member"] in members_of(api_sa(tf))
    assert grant["project"] == "${var.project_id}"
    assert only_with_vertex(tf, grant)
    # ...and no custom role hands out Vertex AI permissions elsewhere.
    for role in tf.of_type("google_project_iam_custom_role").values():
        assert not [p for p in role["permissions"] if p.startswith("aiplatform.")]


def test_the_invoker_holds_no_vertex_ai_role() -> None:
    tf = terraform()
    invoker = members_of(invoker_sa(tf))
    for grant in grants(tf, "google_project_iam_member"):
        assert not (grant["member"] in invoker and "aiplatform" in str(grant["role"]))


# --- focus-api's settings ------------------------------------------------------------------


def test_the_api_gets_the_ai_settings_from_the_variables() -> None:
    tf = terraform()
    env = api_env(tf)
    for name, variable in AI_SETTINGS.items():
        assert name in env, f"focus-api does not get {name}"
        assert f"var.{variable}" in str(env[name]), f"{name} = {env[name]!r}"
        assert variable in tf.variables, f"no variable {variable}"


def test_only_the_api_gets_the_ai_settings() -> None:
    tf = terraform()
    api = ".".join(API)
    for address, _, container in containers(tf):
        if address != api:
            assert not set(environment(tf, container)) & set(AI_SETTINGS), address


def test_the_ai_settings_are_read_by_the_app() -> None:
    names = setting_names()
    for name in AI_SETTINGS:
        assert name in names, f"{name} is not read by app.settings"


def test_the_variables_defaults_are_values_the_app_accepts() -> None:
    tf = terraform()
    provider = tf.variables["ai_provider"]
    assert provider["default"] == "vertex"
    (validation,) = provider["validation"]
    allowed = set(re.findall(r'"(\w+)"', validation["condition"]))
    assert allowed == {"local", "vertex"}
    assert Settings.model_fields["ai_provider"].annotation is AiProvider
    assert allowed <= {provider.value for provider in AiProvider}, "a provider the app lacks"

    # Where terraform and the app both have a default, they agree.
    for field in ("ai_model", "ai_daily_tokens_soft", "ai_daily_tokens_hard"):
        assert tf.variables[field]["default"] == default(field), field
    assert tf.variables["ai_model"]["default"] == "gemini-2.5-flash"
    # A region of its own (ML processing kept there), not the app's: see variables.tf.
    location = tf.variables["ai_location"]["default"]
    assert re.fullmatch(r"[a-z]+-[a-z]+\d+", location), "a Vertex AI region, not global"
    assert 0 < default("ai_daily_tokens_soft") <= default("ai_daily_tokens_hard")
