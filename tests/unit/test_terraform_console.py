"""terraform/console.tf: the compliance console's own service behind IAP (ADR 0019).

The console is a second deployment of the backend image with the staff API on; it must pass
production's settings check as the API does, be reachable only through the load balancer and
IAP, let only the compliance staff's group through, and leave the mobile API without it.
"""

from __future__ import annotations

import os

import pytest

from app.settings import (
    Environment,
    PushTransport,
    Settings,
    StaffAuthMode,
    TasksTransport,
    check,
)
from tests.support.terraform import (
    SecretRef,
    api_env,
    assert_reads_secret,
    concrete,
    container_of,
    environment,
    grants,
    members_of,
    one,
    ref,
    setting_names,
    terraform,
)

CONSOLE = "google_cloud_run_v2_service.console"
# A stand-in long enough for FOCUS_CONSOLE_CSRF_KEY (32 characters or more): the value only
# exists in Secret Manager.
CSRF_STAND_IN = "x" * 48


def console_env() -> dict[str, object]:
    tf = terraform()
    return environment(tf, container_of(tf, CONSOLE)[1])


def console_sa() -> str:
    template, _ = container_of(terraform(), CONSOLE)
    return ref(template["service_account"], "google_service_account", "email")


def test_the_console_passes_the_production_settings_check_with_the_staff_api_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tf = terraform()
    env = console_env()
    assert env["FOCUS_ENV"] == Environment.PRODUCTION.value
    for name in list(os.environ):
        if name.upper() in setting_names():
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, concrete(tf, name, value))
    monkeypatch.setenv("FOCUS_CONSOLE_CSRF_KEY", CSRF_STAND_IN)

    settings = check(Settings(_env_file=None))  # raises what production would refuse

    assert settings.env is Environment.PRODUCTION
    assert settings.serves_staff_api
    assert settings.staff_auth_mode is StaffAuthMode.IAP
    assert settings.iap_audience
    assert settings.privacy_requests
    assert settings.tasks_transport is TasksTransport.CLOUD_TASKS
    assert settings.push_transport is PushTransport.LOG  # consumers run on focus-api
    assert not settings.rate_limits
    assert not settings.runs_relay_in_process
    assert not settings.runs_task_worker_in_process


def test_the_console_serves_on_8080_with_the_database_through_the_connector() -> None:
    tf = terraform()
    template, container = container_of(tf, CONSOLE)
    assert container["args"][:5] == ["serve", "--host", "0.0.0.0", "--port", "8080"]  # noqa: S104
    assert [port["container_port"] for port in container["ports"]] == [8080]
    env = console_env()
    assert isinstance(env["DATABASE_URL"], SecretRef)
    assert env["FOCUS_STAFF_API"] == "true"
    assert env["FOCUS_STAFF_AUTH"] == StaffAuthMode.IAP.value
    mounted = {tf.expand(m["mount_path"]) for m in container["volume_mounts"]}
    assert "/cloudsql" in mounted
    assert any("cloud_sql_instance" in volume for volume in template["volumes"])


def test_the_iap_audience_is_the_console_backend_services() -> None:
    tf = terraform()
    audience = tf.expand(console_env()["FOCUS_IAP_AUDIENCE"])
    assert "/projects/${data.google_project.this.number}/global/backendServices/" in audience
    assert "${google_compute_backend_service.console[0].generated_id}" in audience


def test_the_console_is_reachable_only_through_the_load_balancer() -> None:
    tf = terraform()
    console = tf.resource("google_cloud_run_v2_service", "console")
    assert console["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    invokers = {
        grant["member"]
        for grant in grants(tf, "google_cloud_run_v2_service_iam_member")
        if "google_cloud_run_v2_service.console" in grant["name"]
    }
    assert invokers, "IAP's service agent must be allowed to invoke the console"
    assert "allUsers" not in invokers
    assert "allAuthenticatedUsers" not in invokers
    assert all("@gcp-sa-iap.iam.gserviceaccount.com" in tf.expand(m) for m in invokers)


def test_iap_is_on_the_console_backend_and_it_serves_the_console() -> None:
    tf = terraform()
    backend = tf.resource("google_compute_backend_service", "console")
    assert one(backend, "iap")["enabled"] is True
    assert backend["load_balancing_scheme"] == "EXTERNAL_MANAGED"
    group = ref(
        one(backend, "backend")["group"].replace("[0]", ""),
        "google_compute_region_network_endpoint_group",
        "id",
    )
    neg = tf.resource("google_compute_region_network_endpoint_group", group)
    assert neg["network_endpoint_type"] == "SERVERLESS"
    served = tf.expand(one(neg, "cloud_run")["service"])
    assert served == tf.expand(tf.resource("google_cloud_run_v2_service", "console")["name"])
    assert served == "focus-console"
    # The mobile API's backend is not behind IAP: its public surface is unchanged.
    assert "iap" not in tf.resource("google_compute_backend_service", "api")


def test_only_the_compliance_staff_group_passes_iap() -> None:
    tf = terraform()
    members = [
        (grant["role"], grant["member"])
        for grant in grants(tf, "google_iap_web_backend_service_iam_member")
    ]
    assert members == [("roles/iap.httpsResourceAccessor", "${var.compliance_staff_group}")]
    assert not tf.of_type("google_iap_web_backend_service_iam_binding")
    assert not tf.of_type("google_iap_web_backend_service_iam_policy")
    assert tf.variables["compliance_staff_group"].get("description")


def test_the_csrf_key_is_a_secret_the_console_reads_and_no_literal() -> None:
    tf = terraform()
    key = console_env()["FOCUS_CONSOLE_CSRF_KEY"]
    assert isinstance(key, SecretRef), "FOCUS_CONSOLE_CSRF_KEY must come from Secret Manager"
    secret = ref(key.secret, "google_secret_manager_secret", "secret_id")
    assert tf.resource("google_secret_manager_secret", secret)["secret_id"] == (
        "focus-console-csrf-key"
    )
    assert_reads_secret(tf, secret, console_sa())
    outputs = {name: body for block in tf.blocks["output"] for name, body in block.items()}
    assert f"google_secret_manager_secret.{secret}.id" in str(outputs["secrets"]["value"])


def test_the_console_reads_the_secrets_it_needs_and_may_sign_export_links() -> None:
    tf = terraform()
    sa = console_sa()
    for name in ("DATABASE_URL", "FOCUS_PRIVACY_SUBJECT_KEY"):
        value = console_env()[name]
        assert isinstance(value, SecretRef), name
        assert_reads_secret(tf, ref(value.secret, "google_secret_manager_secret", "secret_id"), sa)
    bucket = ref(console_env()["FOCUS_FILES_BUCKET"], "google_storage_bucket", "name")
    assert any(
        grant["bucket"] == f"${{google_storage_bucket.{bucket}.name}}"
        and grant["role"] == "roles/storage.objectAdmin"
        and grant["member"] in members_of(sa)
        for grant in grants(tf, "google_storage_bucket_iam_member")
    )
    assert any(
        grant["service_account_id"] == f"${{google_service_account.{sa}.name}}"
        and grant["role"] == "roles/iam.serviceAccountTokenCreator"
        and grant["member"] in members_of(sa)
        for grant in grants(tf, "google_service_account_iam_member")
    )


def test_the_console_may_schedule_privacy_tasks_as_the_invoker() -> None:
    tf = terraform()
    sa = console_sa()
    invoker = ref(console_env()["FOCUS_INTERNAL_INVOKER"], "google_service_account", "email")
    assert any(
        grant["service_account_id"] == f"${{google_service_account.{invoker}.name}}"
        and grant["role"] == "roles/iam.serviceAccountUser"
        and grant["member"] in members_of(sa)
        for grant in grants(tf, "google_service_account_iam_member")
    )
    assert any(
        grant["role"] == "roles/cloudtasks.enqueuer" and grant["member"] in members_of(sa)
        for grant in grants(tf, "google_cloud_tasks_queue_iam_member")
    )


def test_the_mobile_api_does_not_serve_the_staff_api(monkeypatch: pytest.MonkeyPatch) -> None:
    env = api_env(terraform())
    assert env.get("FOCUS_STAFF_API", "false") != "true"
    assert "FOCUS_CONSOLE_CSRF_KEY" not in env
    assert "FOCUS_IAP_AUDIENCE" not in env
    # Production's default is off (app.settings): the API needs no setting to stay so.
    for name in list(os.environ):
        if name.upper() in setting_names():
            monkeypatch.delenv(name)
    monkeypatch.setenv("FOCUS_ENV", Environment.PRODUCTION.value)
    assert not Settings(_env_file=None).serves_staff_api
