"""terraform/: Pub/Sub (events and legacy changes), Cloud Tasks and Scheduler, checked against
the app's consumers, tasks and the legacy trigger (see test_terraform.py for how)."""

from __future__ import annotations

from typing import Any

from app.bootstrap import NOTIFICATIONS
from jobs.housekeeping import PURGE_TASK
from tests.support.terraform import (
    API,
    PUBSUB_AGENT,
    SEVEN_DAYS,
    Terraform,
    api_env,
    container_of,
    default,
    environment,
    grants,
    invoker_sa,
    members_of,
    one,
    ref,
    relay,
    strings,
    terraform,
)

# --- Pub/Sub -------------------------------------------------------------------------------


def push_subscription(tf: Terraform) -> dict[str, Any]:
    path = f"/internal/pubsub/{NOTIFICATIONS}"
    found = [
        body
        for body in tf.of_type("google_pubsub_subscription").values()
        if "push_config" in body and one(body, "push_config")["push_endpoint"].endswith(path)
    ]
    assert len(found) == 1, f"one push subscription should deliver to {path}"
    return found[0]


def test_the_events_topic_is_the_one_the_relay_publishes_to() -> None:
    tf = terraform()
    name = ref(push_subscription(tf)["topic"], "google_pubsub_topic", "id")
    topic = tf.resource("google_pubsub_topic", name)
    assert topic["name"] == default("pubsub_topic")
    assert topic["message_retention_duration"] == SEVEN_DAYS
    env = environment(tf, container_of(tf, relay(tf)[0])[1])
    assert env["FOCUS_PUBSUB_TOPIC"] == f"${{google_pubsub_topic.{name}.name}}"


def test_the_push_subscription_calls_the_consumer_as_the_invoker_in_order() -> None:
    tf = terraform()
    env = api_env(tf)
    subscription = push_subscription(tf)
    push = one(subscription, "push_config")
    assert push["push_endpoint"] == (
        f"{env['FOCUS_CLOUD_TASKS_TARGET_URL']}/internal/pubsub/{NOTIFICATIONS}"
    )
    oidc = one(push, "oidc_token")
    assert oidc["service_account_email"] == env["FOCUS_INTERNAL_INVOKER"]
    assert oidc["audience"] == env["FOCUS_INTERNAL_AUDIENCE"]
    assert subscription["enable_message_ordering"] is True
    assert subscription["ack_deadline_seconds"] >= 10
    retry = one(subscription, "retry_policy")
    assert (retry["minimum_backoff"], retry["maximum_backoff"]) == ("10s", "600s")
    assert one(subscription, "expiration_policy")["ttl"] == ""


def test_dead_lettering_matches_the_consumers_max_attempts() -> None:
    policy = one(push_subscription(terraform()), "dead_letter_policy")
    assert policy["max_delivery_attempts"] == default("consumer_max_attempts") == 10


def test_dead_letters_are_kept_and_the_pubsub_agent_may_move_them() -> None:
    tf = terraform()
    subscription = push_subscription(tf)
    dead = ref(
        one(subscription, "dead_letter_policy")["dead_letter_topic"], "google_pubsub_topic", "id"
    )
    assert tf.resource("google_pubsub_topic", dead)["name"] == "focus-events-dead"

    keepers = [
        body
        for body in tf.of_type("google_pubsub_subscription").values()
        if body["topic"] == f"${{google_pubsub_topic.{dead}.id}}"
    ]
    assert len(keepers) == 1
    assert "push_config" not in keepers[0]  # pulled by people, not pushed anywhere
    assert keepers[0]["message_retention_duration"] == SEVEN_DAYS
    assert one(keepers[0], "expiration_policy")["ttl"] == ""

    def agent_holds(kind: str, key: str, target: str, role: str) -> bool:
        return any(
            grant[key] == target
            and grant["role"] == role
            and PUBSUB_AGENT.match(tf.expand(grant["member"]))
            for grant in grants(tf, kind)
        )

    assert agent_holds(
        "google_pubsub_topic_iam_member",
        "topic",
        f"${{google_pubsub_topic.{dead}.id}}",
        "roles/pubsub.publisher",
    )
    source = next(
        name
        for name, body in tf.of_type("google_pubsub_subscription").items()
        if body is subscription
    )
    assert agent_holds(
        "google_pubsub_subscription_iam_member",
        "subscription",
        f"${{google_pubsub_subscription.{source}.id}}",
        "roles/pubsub.subscriber",
    )
    assert agent_holds(
        "google_service_account_iam_member",
        "service_account_id",
        f"${{google_service_account.{invoker_sa(tf)}.name}}",
        "roles/iam.serviceAccountTokenCreator",
    )


# --- Cloud Tasks and Scheduler -------------------------------------------------------------


def test_the_task_queue_is_the_one_the_api_schedules_on() -> None:
    tf = terraform()
    env = api_env(tf)
    name = ref(env["FOCUS_CLOUD_TASKS_QUEUE"], "google_cloud_tasks_queue", "name")
    assert ref(env["FOCUS_CLOUD_TASKS_LOCATION"], "google_cloud_tasks_queue", "location") == name
    queue = tf.resource("google_cloud_tasks_queue", name)
    # Wired from variables whose defaults are the settings' defaults.
    assert tf.expand(queue["name"]) == default("cloud_tasks_queue")
    assert tf.expand(queue["location"]) == default("cloud_tasks_location")
    retry = one(queue, "retry_config")
    assert retry["max_attempts"] >= 1
    assert {"min_backoff", "max_backoff"} <= set(retry)
    assert one(queue, "rate_limits")["max_dispatches_per_second"] > 0


def test_the_api_may_create_tasks_that_sign_as_the_invoker() -> None:
    tf = terraform()
    env = api_env(tf)
    queue = ref(env["FOCUS_CLOUD_TASKS_QUEUE"], "google_cloud_tasks_queue", "name")
    api_sa = ref(
        one(tf.resource(*API), "template")["service_account"], "google_service_account", "email"
    )
    assert any(
        grant["name"] == f"${{google_cloud_tasks_queue.{queue}.name}}"
        and grant["role"] == "roles/cloudtasks.enqueuer"
        and grant["member"] in members_of(api_sa)
        for grant in grants(tf, "google_cloud_tasks_queue_iam_member")
    )
    assert any(
        grant["service_account_id"] == f"${{google_service_account.{invoker_sa(tf)}.name}}"
        and grant["role"] == "roles/iam.serviceAccountUser"
        and grant["member"] in members_of(api_sa)
        for grant in grants(tf, "google_service_account_iam_member")
    )


def test_the_scheduler_runs_the_purge_hourly_as_the_invoker() -> None:
    tf = terraform()
    env = api_env(tf)
    jobs = [
        body
        for body in tf.of_type("google_cloud_scheduler_job").values()
        if one(body, "http_target")["uri"].endswith(f"/internal/tasks/{PURGE_TASK}")
    ]
    assert len(jobs) == 1
    job = jobs[0]
    target = one(job, "http_target")
    assert target["uri"] == f"{env['FOCUS_CLOUD_TASKS_TARGET_URL']}/internal/tasks/{PURGE_TASK}"
    assert target["http_method"] == "POST"
    assert target["body"] == '${base64encode("{}")}'  # an empty JSON object, as tasks send
    oidc = one(target, "oidc_token")
    assert oidc["service_account_email"] == env["FOCUS_INTERNAL_INVOKER"]
    assert oidc["audience"] == env["FOCUS_INTERNAL_AUDIENCE"]
    minute, *rest = job["schedule"].split()
    assert minute.isdigit(), f"not hourly: {job['schedule']}"
    assert rest == ["*"] * 4, f"not hourly: {job['schedule']}"


# --- Legacy sync ---------------------------------------------------------------------------


def test_legacy_changes_are_pushed_in_order_to_the_legacy_sync_as_the_invoker() -> None:
    from functions.main import TOPIC
    from migration.legacy_sync.consumer import DEFAULT_MAX_ATTEMPTS, SUBSCRIPTION

    tf = terraform()
    env = api_env(tf)
    path = f"/internal/pubsub/{SUBSCRIPTION}"
    (name, subscription), *others = [
        (name, body)
        for name, body in tf.of_type("google_pubsub_subscription").items()
        if "push_config" in body and one(body, "push_config")["push_endpoint"].endswith(path)
    ]
    assert not others, f"one push subscription should deliver to {path}"
    topic_name = ref(subscription["topic"], "google_pubsub_topic", "id")
    topic = tf.resource("google_pubsub_topic", topic_name)
    assert topic["name"] == TOPIC.default  # where functions/ publishes
    assert topic["message_retention_duration"] == SEVEN_DAYS

    push = one(subscription, "push_config")
    assert push["push_endpoint"] == f"{env['FOCUS_CLOUD_TASKS_TARGET_URL']}{path}"
    oidc = one(push, "oidc_token")
    assert oidc["service_account_email"] == env["FOCUS_INTERNAL_INVOKER"]
    assert oidc["audience"] == env["FOCUS_INTERNAL_AUDIENCE"]
    assert subscription["enable_message_ordering"] is True
    assert one(subscription, "expiration_policy")["ttl"] == ""

    policy = one(subscription, "dead_letter_policy")
    assert policy["max_delivery_attempts"] == DEFAULT_MAX_ATTEMPTS
    dead = ref(policy["dead_letter_topic"], "google_pubsub_topic", "id")
    assert any(
        grant["topic"] == f"${{google_pubsub_topic.{dead}.id}}"
        and grant["role"] == "roles/pubsub.publisher"
        and PUBSUB_AGENT.match(tf.expand(grant["member"]))
        for grant in grants(tf, "google_pubsub_topic_iam_member")
    )
    assert any(
        grant["subscription"] == f"${{google_pubsub_subscription.{name}.id}}"
        and grant["role"] == "roles/pubsub.subscriber"
        and PUBSUB_AGENT.match(tf.expand(grant["member"]))
        for grant in grants(tf, "google_pubsub_subscription_iam_member")
    )
    keepers = [
        body
        for body in tf.of_type("google_pubsub_subscription").values()
        if body["topic"] == f"${{google_pubsub_topic.{dead}.id}}"
    ]
    assert len(keepers) == 1
    assert "push_config" not in keepers[0]


def test_the_legacy_trigger_runs_as_an_account_that_may_only_publish_legacy_changes() -> None:
    from functions.main import SERVICE_ACCOUNT, TOPIC

    tf = terraform()
    (name,) = [
        name
        for name, body in tf.of_type("google_service_account").items()
        if f"{body['account_id']}@" == SERVICE_ACCOUNT
    ]
    member = f"${{google_service_account.{name}.member}}"
    publishes = [
        grant for grant in grants(tf, "google_pubsub_topic_iam_member") if grant["member"] == member
    ]
    assert [grant["role"] for grant in publishes] == ["roles/pubsub.publisher"]
    topic = ref(publishes[0]["topic"], "google_pubsub_topic", "id")
    assert tf.resource("google_pubsub_topic", topic)["name"] == TOPIC.default
    project_roles = [
        grant for grant in grants(tf, "google_project_iam_member") if member in strings(grant)
    ]
    assert project_roles == []


def test_the_relay_may_repair_firestore_mirrors_while_the_migration_runs() -> None:
    tf = terraform()
    address, _ = relay(tf)
    env = environment(tf, container_of(tf, address)[1])
    assert env["FOCUS_LEGACY_FIRESTORE"] == "${tostring(var.legacy_firestore)}"
    relay_member = "${google_service_account.relay.member}"
    roles = {
        grant["role"]
        for grant in grants(tf, "google_project_iam_member")
        if grant["member"] == relay_member
    }
    assert "roles/datastore.user" in roles
