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
from pathlib import Path, PurePosixPath

import hcl2
import pytest

from app.settings import (
    Environment,
    EventsTransport,
    PushTransport,
    Settings,
    TasksTransport,
    check,
)
from tests.support.terraform import (
    API,
    HCL,
    TERRAFORM,
    SecretRef,
    Terraform,
    api_env,
    assert_reads_secret,
    concrete,
    container_of,
    containers,
    environment,
    grants,
    invoker_sa,
    members_of,
    one,
    ref,
    relay,
    setting_names,
    strings,
    terraform,
)

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
    # Public, or (with api_domain) only through the load balancer and Cloud Armor: edge.tf.
    assert api["ingress"] in (
        "INGRESS_TRAFFIC_ALL",
        '${local.edge ? "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" : "INGRESS_TRAFFIC_ALL"}',
    )
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
    "roles/bigquery.jobUser",  # a query is a job, created in a project (the growth team's)
    "roles/aiplatform.user",  # Vertex AI's publisher models (Gemini): no resource-level IAM
    "roles/cloudtrace.agent",  # spans: Cloud Trace has no resource-level IAM
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
            assert set(role["permissions"]) <= PROJECT_PERMISSIONS, role["permissions"]


PROJECT_PERMISSIONS = {
    "cloudmessaging.messages.create",  # FCM sends: no resource to grant them on
    "firebaseauth.users.get",  # Firebase Auth users: project-level only
    "firebaseauth.users.update",
    "firebaseauth.users.delete",
}
"""What custom roles may hold: permissions with no resource-level IAM, one job's worth."""


def custom_permissions(tf: Terraform, sa: str) -> set[str]:
    """The permissions of the custom project roles granted to service account `sa`."""
    found: set[str] = set()
    for grant in grants(tf, "google_project_iam_member"):
        if grant["member"] in members_of(sa) and "custom_role" in str(grant["role"]):
            custom = ref(grant["role"], "google_project_iam_custom_role", "id")
            found |= set(tf.resource("google_project_iam_custom_role", custom)["permissions"])
    return found


def test_the_api_erases_firebase_accounts_and_the_console_only_finds_them() -> None:
    tf = terraform()
    account = {"firebaseauth.users.get", "firebaseauth.users.update", "firebaseauth.users.delete"}
    assert account <= custom_permissions(tf, "api")
    assert custom_permissions(tf, "console") == {"firebaseauth.users.get"}
    assert not {p for p in custom_permissions(tf, "relay") if p.startswith("firebaseauth.")}


def test_every_workload_that_traces_may_write_to_cloud_trace() -> None:
    tf = terraform()
    writers = set(tf.resource("google_project_iam_member", "trace_agent")["for_each"].values())
    assert tf.resource("google_project_iam_member", "trace_agent")["role"] == (
        "roles/cloudtrace.agent"
    )
    tracing = []
    for address, template, container in containers(tf):
        env = environment(tf, container)
        if env.get("FOCUS_TRACING") == "cloud":
            tracing.append(address)
            account = template["service_account"]
            member = account.replace(".email}", ".member}")
            assert member in writers, f"{address} traces as {account}, which may not write spans"
            assert env["FOCUS_TRACE_SAMPLE_RATIO"] == "${tostring(var.trace_sample_ratio)}"
    # Production's share: enough traces to see a path, few enough to pay for (ADR 0023).
    assert 0 < tf.variables["trace_sample_ratio"]["default"] <= 0.05
    assert {"google_cloud_run_v2_service.api", "google_cloud_run_v2_worker_pool.relay"} <= set(
        tracing
    )
