"""terraform/ checked against the app it runs, by reading it: no provider, no network.

No Terraform provider can be downloaded here, so `terraform validate` cannot run. These tests
parse every .tf file with python-hcl2 and check what the app relies on: the names, paths,
identities and numbers that must agree with app/settings.py, the consumers and the tasks.
References are compared as Terraform expressions: the push subscription must sign as the very
account the API accepts (`${google_service_account.invoker.email}` on both sides), not as an
account that merely has a similar name.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any, get_args

import hcl2
import pytest
from pydantic import AliasChoices

from app.bootstrap import NOTIFICATIONS
from app.settings import (
    Environment,
    EventsTransport,
    PushTransport,
    Settings,
    TasksTransport,
    check,
)
from events.maintenance import PURGE_TASK

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform"
HCL = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True
)
RUN_TYPES = (
    "google_cloud_run_v2_service",
    "google_cloud_run_v2_worker_pool",
    "google_cloud_run_v2_job",
)
API = ("google_cloud_run_v2_service", "api")
RELAY_NAME = "focus-relay"
SEVEN_DAYS = "604800s"
REF = re.compile(r"\$\{(local|var)\.(\w+)\}")
PUBSUB_AGENT = re.compile(
    r"^serviceAccount:service-\$\{data\.google_project\.\w+\.number\}"
    r"@gcp-sa-pubsub\.iam\.gserviceaccount\.com$"
)


def default(field: str) -> Any:
    """A setting's default, whatever the environment of the test run says."""
    return Settings.model_fields[field].default


def one(body: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The single nested block `key` of `body` (python-hcl2 lists every block)."""
    found = body.get(key)
    assert isinstance(found, list), f"no `{key}` block in {sorted(body)}"
    assert len(found) == 1, f"{len(found)} `{key}` blocks where one was expected"
    block: dict[str, Any] = found[0]
    return block


def ref(expression: Any, kind: str, attribute: str) -> str:
    """The resource name in `${kind.NAME.attribute}`; fails on any other expression."""
    match = re.fullmatch(rf"\$\{{{kind}\.(\w+)\.{attribute}\}}", str(expression))
    assert match, f"{expression!r} is not a reference to {kind}.*.{attribute}"
    return match.group(1)


@dataclass(frozen=True)
class SecretRef:
    secret: str
    """The expression naming the secret, e.g. `${google_secret_manager_secret.x.secret_id}`."""


@dataclass(frozen=True)
class Terraform:
    resources: dict[str, dict[str, dict[str, Any]]]
    locals: dict[str, Any]
    variables: dict[str, dict[str, Any]]
    blocks: dict[str, list[dict[str, Any]]]
    """Every top-level block by kind (terraform, provider, check, output...)."""

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.resources.get(kind, {})

    def resource(self, kind: str, name: str) -> dict[str, Any]:
        assert name in self.of_type(kind), f"no resource {kind}.{name}"
        return self.of_type(kind)[name]

    def expand(self, value: Any) -> Any:
        """Substitute `${local.x}` and `${var.x}` (its default) where they are known."""
        if not isinstance(value, str):
            return value
        whole = REF.fullmatch(value)
        if whole:
            known, found = self._lookup(*whole.groups())
            return self.expand(found) if known else value

        def substitute(match: re.Match[str]) -> str:
            known, found = self._lookup(*match.groups())
            found = self.expand(found) if known else None
            return str(found) if isinstance(found, str | int) else match.group(0)

        return REF.sub(substitute, value)

    def _lookup(self, kind: str, name: str) -> tuple[bool, Any]:
        if kind == "local":
            return name in self.locals, self.locals.get(name)
        variable = self.variables.get(name, {})
        return variable.get("default") is not None, variable.get("default")


@cache
def terraform() -> Terraform:
    resources: dict[str, dict[str, dict[str, Any]]] = {}
    local_values: dict[str, Any] = {}
    variables: dict[str, dict[str, Any]] = {}
    blocks: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(TERRAFORM.glob("*.tf")):
        parsed = hcl2.loads(path.read_text(), serialization_options=HCL)
        for kind, entries in parsed.items():
            for entry in entries:
                if kind == "resource":
                    for resource_type, named in entry.items():
                        for name, body in named.items():
                            bucket = resources.setdefault(resource_type, {})
                            assert name not in bucket, f"{resource_type}.{name} twice"
                            bucket[name] = body
                elif kind == "locals":
                    local_values.update(entry)
                elif kind == "variable":
                    variables.update(entry)
                else:
                    blocks.setdefault(kind, []).append(entry)
    return Terraform(resources, local_values, variables, blocks)


def containers(tf: Terraform) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Every container of every Cloud Run resource: (address, revision template, container)."""
    for kind in RUN_TYPES:
        for name, body in tf.of_type(kind).items():
            template = one(body, "template")
            if kind == "google_cloud_run_v2_job":
                template = one(template, "template")
            for container in template.get("containers", []):
                yield f"{kind}.{name}", template, container


def environment(tf: Terraform, container: Mapping[str, Any]) -> dict[str, Any]:
    """A container's variables: name -> expression (as written), or a SecretRef."""
    env: dict[str, Any] = {}
    for dynamic in container.get("dynamic", []):
        for label, spec in dynamic.items():
            assert label == "env", f"dynamic {label!r} in a container is not understood here"
            assert one(spec, "content") == {"name": "${env.key}", "value": "${env.value}"}
            items = tf.expand(spec["for_each"])
            assert isinstance(items, dict), f"dynamic env over {spec['for_each']!r}"
            env.update(items)
    for entry in container.get("env", []):
        name = entry["name"]
        assert name not in env, f"{name} set twice"
        if "value_source" in entry:
            env[name] = SecretRef(one(one(entry, "value_source"), "secret_key_ref")["secret"])
        else:
            env[name] = entry["value"]
    return env


def container_of(tf: Terraform, address: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The app container (the one running `focus`) of a Cloud Run resource."""
    found = [
        (template, container)
        for at, template, container in containers(tf)
        if at == address and container.get("command") == ["focus"]
    ]
    assert len(found) == 1, f"{address} should run exactly one `focus` container"
    return found[0]


def api_env(tf: Terraform) -> dict[str, Any]:
    return environment(tf, container_of(tf, ".".join(API))[1])


def relay(tf: Terraform) -> tuple[str, dict[str, Any]]:
    found = [
        (f"{kind}.{name}", body)
        for kind in RUN_TYPES
        for name, body in tf.of_type(kind).items()
        if tf.expand(body["name"]) == RELAY_NAME
    ]
    assert len(found) == 1, f"one Cloud Run resource should be named {RELAY_NAME}"
    return found[0]


def setting_names() -> dict[str, str]:
    """Every environment variable Settings reads (upper case) -> its field."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    names: dict[str, str] = {}
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            choices = [choice for choice in alias.choices if isinstance(choice, str)]
        elif isinstance(alias, str):
            choices = [alias]
        else:
            choices = [prefix + field]
        names.update({choice.upper(): field for choice in choices})
    return names


def concrete(tf: Terraform, name: str, value: Any) -> str:
    """A value the setting accepts: the literal when terraform has one, else a stand-in of the
    setting's type (what only exists once applied: URLs, emails, secrets)."""
    if not isinstance(value, SecretRef):
        value = tf.expand(value)
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str) and "${" not in value:
            return value
    annotation = Settings.model_fields[setting_names()[name.upper()]].annotation
    types = set(get_args(annotation)) | {annotation}
    if int in types:
        return "1"
    if bool in types:
        return "false"
    if Path in types:
        return "/placeholder"
    return "https://placeholder.invalid"


def members_of(sa: str) -> set[str]:
    """How terraform can name service account `sa` as an IAM member."""
    return {
        f"${{google_service_account.{sa}.member}}",
        f"serviceAccount:${{google_service_account.{sa}.email}}",
    }


def grants(tf: Terraform, kind: str) -> Iterator[dict[str, Any]]:
    yield from tf.of_type(kind).values()


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def invoker_sa(tf: Terraform) -> str:
    return ref(api_env(tf)["FOCUS_INTERNAL_INVOKER"], "google_service_account", "email")


def assert_reads_secret(tf: Terraform, secret: str, sa: str) -> None:
    readers: set[str] = set()
    for grant in grants(tf, "google_secret_manager_secret_iam_member"):
        if grant["secret_id"] == f"${{google_secret_manager_secret.{secret}.id}}":
            assert grant["role"] == "roles/secretmanager.secretAccessor"
            members = grant.get("for_each", grant["member"])
            readers |= set(strings(tf.expand(members)))
    assert readers & members_of(sa), f"{sa} cannot read secret {secret}"
    versions = [
        version
        for version in tf.of_type("google_secret_manager_secret_version").values()
        if f"google_secret_manager_secret.{secret}." in version["secret"]
    ]
    assert not versions, f"the value of secret {secret} must not be in terraform"


# --- the files -----------------------------------------------------------------------------


def test_there_is_a_configuration() -> None:
    assert len(list(TERRAFORM.glob("*.tf"))) >= 5


@pytest.mark.parametrize("path", sorted(TERRAFORM.glob("*.tf")), ids=lambda path: path.name)
def test_every_file_parses(path: Path) -> None:
    parsed = hcl2.loads(path.read_text(), serialization_options=HCL)
    assert parsed, f"{path.name} is empty"


def test_the_google_provider_is_pinned_to_major_6() -> None:
    required = one(terraform().blocks["terraform"][0], "required_providers")
    assert required["google"]["source"] == "hashicorp/google"
    assert required["google"]["version"].startswith("~> 6")


def test_no_project_id_is_hard_coded() -> None:
    tf = terraform()
    for kind, named in tf.resources.items():
        for name, body in named.items():
            if "project" in body:
                assert body["project"] == "${var.project_id}", f"{kind}.{name}"
    for provider in tf.blocks["provider"]:
        for body in provider.values():
            assert body["project"] == "${var.project_id}"


# --- the Cloud Run resources and the app's settings ----------------------------------------


def test_every_variable_a_container_gets_is_a_setting() -> None:
    tf = terraform()
    known = setting_names()
    seen = 0
    for address, _, container in containers(tf):
        for name in environment(tf, container):
            seen += 1
            assert name.upper() in known, f"{address}: {name} is not read by app.settings"
    assert seen


@pytest.mark.parametrize(
    ("address", "push"),
    [
        (".".join(API), PushTransport.LIVE),
        # The relay only publishes; pushes are sent where the consumers run (focus-api).
        ("relay", PushTransport.LOG),
    ],
)
def test_the_production_configuration_passes_the_settings_check(
    address: str, push: PushTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    tf = terraform()
    if address == "relay":
        address = relay(tf)[0]
    env = environment(tf, container_of(tf, address)[1])
    assert env["FOCUS_ENV"] == Environment.PRODUCTION.value
    for name in list(os.environ):
        if name.upper() in setting_names():
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, concrete(tf, name, value))

    settings = check(Settings(_env_file=None))  # raises what production would refuse

    assert settings.env is Environment.PRODUCTION
    assert settings.events_transport is EventsTransport.PUBSUB
    assert settings.tasks_transport is TasksTransport.CLOUD_TASKS
    assert settings.push_transport is push
    assert not settings.runs_relay_in_process
    assert not settings.runs_task_worker_in_process


def test_the_api_serves_on_8080_pushes_live_and_keeps_metrics_off_the_public_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tf = terraform()
    _, container = container_of(tf, ".".join(API))
    args = container["args"]
    # Cloud Run's container listens on every interface; only port 8080 is routed to it.
    assert args[:5] == ["serve", "--host", "0.0.0.0", "--port", "8080"]  # noqa: S104
    assert [port["container_port"] for port in container["ports"]] == [8080]
    env = api_env(tf)
    assert env["FOCUS_RELAY_IN_PROCESS"] == "false"
    assert isinstance(env["DATABASE_URL"], SecretRef)
    for name in ("FOCUS_APNS_KEY_ID", "FOCUS_APNS_TEAM_ID", "FOCUS_APNS_TOPIC"):
        assert name in env
    assert "FOCUS_PUSH" not in env  # production's default: APNs and FCM
    assert int(concrete(tf, "FOCUS_METRICS_PORT", env["FOCUS_METRICS_PORT"])) != 8080


def test_the_api_is_public_and_the_invoker_may_call_it() -> None:
    tf = terraform()
    api = tf.resource(*API)
    assert api["ingress"] == "INGRESS_TRAFFIC_ALL"
    invokers = {
        grant["member"]
        for grant in grants(tf, "google_cloud_run_v2_service_iam_member")
        if grant["name"] == f"${{{API[0]}.{API[1]}.name}}" and grant["role"] == "roles/run.invoker"
    }
    assert "allUsers" in invokers  # the apps authenticate with Firebase, not Google IAM
    assert invokers & members_of(invoker_sa(tf))


def test_google_calls_the_api_at_its_deterministic_url() -> None:
    """The URL is known before the service exists: https://SERVICE-PROJECT_NUMBER.REGION.run.app."""
    tf = terraform()
    env = api_env(tf)
    name = tf.expand(tf.resource(*API)["name"])
    for setting in ("FOCUS_INTERNAL_AUDIENCE", "FOCUS_CLOUD_TASKS_TARGET_URL"):
        url = tf.expand(env[setting])
        assert re.fullmatch(
            rf"https://{name}-\$\{{data\.google_project\.\w+\.number\}}\.[a-z0-9-]+\.run\.app",
            url,
        ), f"{setting} = {url}"
    assert tf.expand(env["FOCUS_INTERNAL_AUDIENCE"]) == tf.expand(
        env["FOCUS_CLOUD_TASKS_TARGET_URL"]
    )
    # ...and the plan says so if Cloud Run ever serves it elsewhere.
    conditions = [
        one(body, "assert")["condition"]
        for block in terraform().blocks.get("check", [])
        for body in block.values()
    ]
    assert any(f"{API[0]}.{API[1]}.urls" in condition for condition in conditions)


def test_the_apns_key_is_a_file_mounted_from_secret_manager() -> None:
    tf = terraform()
    template, container = container_of(tf, ".".join(API))
    key_file = PurePosixPath(tf.expand(api_env(tf)["FOCUS_APNS_KEY_FILE"]))
    mounts = {tf.expand(m["mount_path"]): m["name"] for m in container["volume_mounts"]}
    assert str(key_file.parent) in mounts, f"nothing mounted at {key_file.parent}"
    volumes = {volume["name"]: volume for volume in template["volumes"]}
    secret = one(volumes[mounts[str(key_file.parent)]], "secret")
    assert [tf.expand(item["path"]) for item in secret["items"]] == [key_file.name]
    name = ref(secret["secret"], "google_secret_manager_secret", "secret_id")
    assert_reads_secret(
        tf, name, ref(template["service_account"], "google_service_account", "email")
    )


def test_every_database_user_reaches_cloud_sql_through_the_connector_with_its_secret() -> None:
    tf = terraform()
    users = 0
    for address, template, container in containers(tf):
        env = environment(tf, container)
        if "DATABASE_URL" not in env:
            continue
        users += 1
        sa = ref(template["service_account"], "google_service_account", "email")
        url = env["DATABASE_URL"]
        assert isinstance(url, SecretRef), f"{address}: DATABASE_URL must come from a secret"
        assert_reads_secret(tf, ref(url.secret, "google_secret_manager_secret", "secret_id"), sa)
        sockets = {
            volume["name"]
            for volume in template["volumes"]
            if "cloud_sql_instance" in volume
            and "google_sql_database_instance."
            in str(one(volume, "cloud_sql_instance")["instances"])
        }
        mounted = {tf.expand(m["mount_path"]): m["name"] for m in container["volume_mounts"]}
        assert sockets & {mounted.get("/cloudsql")}, f"{address}: no Cloud SQL socket"
        assert "roles/cloudsql.client" in project_roles(tf, sa), f"{address}: no cloudsql.client"
    assert users >= 3  # api, relay, migrations


def test_the_relay_runs_focus_events_relay_always_on_and_unreachable() -> None:
    tf = terraform()
    address, body = relay(tf)
    template, container = container_of(tf, address)
    assert container["args"] == ["events", "relay"]
    kind = address.split(".")[0]
    if kind == "google_cloud_run_v2_worker_pool":
        # No URL at all; always-allocated CPU; a fixed number of instances.
        assert "ingress" not in body
        assert tf.expand(one(body, "scaling")["manual_instance_count"]) >= 1
    else:
        assert kind == "google_cloud_run_v2_service"
        assert body["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
        assert tf.expand(one(template, "scaling")["min_instance_count"]) >= 1
        assert one(container, "resources")["cpu_idle"] is False
    assert "ports" not in container
    name = address.split(".")[1]
    for grant in tf.of_type("google_cloud_run_v2_service_iam_member").values():
        assert f".{name}." not in grant["name"], "nobody may invoke the relay"
    env = environment(tf, container)
    topic = ref(env["FOCUS_PUBSUB_TOPIC"], "google_pubsub_topic", "name")
    sa = ref(template["service_account"], "google_service_account", "email")
    publishers = {
        grant["member"]
        for grant in grants(tf, "google_pubsub_topic_iam_member")
        if grant["topic"] == f"${{google_pubsub_topic.{topic}.id}}"
        and grant["role"] == "roles/pubsub.publisher"
    }
    assert publishers & members_of(sa)


def test_each_workload_runs_as_its_own_service_account() -> None:
    accounts = [
        template["service_account"]
        for _, template, container in containers(terraform())
        if container.get("command") == ["focus"]
    ]
    assert len(accounts) == len(set(accounts)) >= 3
    for account in accounts:
        ref(account, "google_service_account", "email")


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


# --- Cloud SQL, Firestore ------------------------------------------------------------------


def test_cloud_sql_is_postgres_15_protected_and_backed_up() -> None:
    instances = terraform().of_type("google_sql_database_instance")
    assert len(instances) == 1
    instance = next(iter(instances.values()))
    assert instance["database_version"] == "POSTGRES_15"
    assert instance["deletion_protection"] is True
    settings = one(instance, "settings")
    assert settings["deletion_protection_enabled"] is True
    backups = one(settings, "backup_configuration")
    assert backups["enabled"] is True
    assert backups["point_in_time_recovery_enabled"] is True
    assert "var.sql_high_availability" in settings["availability_type"]
    ip = one(settings, "ip_configuration")
    assert "authorized_networks" not in ip
    assert ip["ssl_mode"] == "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"


def test_firestore_is_native_and_cannot_be_deleted_by_terraform() -> None:
    databases = terraform().of_type("google_firestore_database")
    assert len(databases) == 1
    database = next(iter(databases.values()))
    assert database["type"] == "FIRESTORE_NATIVE"
    assert database["delete_protection_state"] == "DELETE_PROTECTION_ENABLED"
    assert database["deletion_policy"] == "ABANDON"


# --- IAM -----------------------------------------------------------------------------------

PROJECT_ROLES = {
    "roles/cloudsql.client",
    "roles/datastore.user",
    "roles/monitoring.metricWriter",
}


def project_roles(tf: Terraform, sa: str) -> set[str]:
    """Project-wide roles of service account `sa` (for_each lists expanded)."""
    roles: set[str] = set()
    for grant in grants(tf, "google_project_iam_member"):
        if grant["member"] in members_of(sa):
            if grant["role"] == "${each.value}":
                roles |= set(re.findall(r"roles/[\w.]+", grant["for_each"]))
            else:
                roles.add(grant["role"])
    return roles


def test_no_one_gets_a_basic_role() -> None:
    tf = terraform()
    for kind, named in tf.resources.items():
        for name, body in named.items():
            for text in strings(body):
                found = re.findall(r"roles/(?:owner|editor|viewer)\b", text)
                assert not found, f"{kind}.{name} grants {found}"


def test_project_wide_grants_are_only_those_without_resource_level_iam() -> None:
    tf = terraform()
    assert not tf.of_type("google_project_iam_binding")
    assert not tf.of_type("google_project_iam_policy")
    for grant in grants(tf, "google_project_iam_member"):
        roles = set(re.findall(r"roles/[\w.]+", json.dumps(grant)))
        custom = ref(grant["role"], "google_project_iam_custom_role", "id") if not roles else None
        assert roles <= PROJECT_ROLES, f"project-wide {roles - PROJECT_ROLES}"
        if custom is not None:
            role = tf.resource("google_project_iam_custom_role", custom)
            assert role["permissions"] == ["cloudmessaging.messages.create"]


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
