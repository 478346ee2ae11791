"""terraform/ for the abuse protections (docs/adr/0013): Cloud Armor in front of the API,
Memorystore for shared rate limits, App Check modes. Read with python-hcl2, as the others."""

from __future__ import annotations

from limits import parse_many

from api.app_check import AppCheckMode
from tests.support.terraform import (
    SecretRef,
    api_env,
    assert_reads_secret,
    container_of,
    default,
    environment,
    one,
    ref,
    relay,
    terraform,
)


def test_the_api_counts_its_limits_in_memorystore_named_by_a_secret() -> None:
    tf = terraform()
    storage = api_env(tf)["FOCUS_RATE_LIMIT_STORAGE"]

    assert isinstance(storage, SecretRef)  # it holds the AUTH string
    secret = ref(storage.secret, "google_secret_manager_secret", "secret_id")
    assert_reads_secret(tf, secret, "api")


def test_memorystore_wants_auth_and_tls_and_the_api_can_reach_its_network() -> None:
    tf = terraform()
    (redis,) = tf.of_type("google_redis_instance").values()
    assert redis["auth_enabled"] is True
    assert redis["transit_encryption_mode"] == "SERVER_AUTHENTICATION"

    template, _ = container_of(tf, "google_cloud_run_v2_service.api")
    interface = one(one(template, "vpc_access"), "network_interfaces")
    assert interface["network"] == redis["authorized_network"]


def test_the_ca_the_storage_uri_names_is_mounted_there() -> None:
    tf = terraform()
    secret = tf.resource("google_secret_manager_secret", "rate_limit_storage")
    ca_file = f"{tf.expand('${local.redis_ca_dir}')}/{tf.expand('${local.redis_ca_file}')}"
    assert f"ssl_ca_certs={ca_file}" in secret["annotations"]["format"]

    template, container = container_of(tf, "google_cloud_run_v2_service.api")
    volume = next(v for v in template["volumes"] if v["name"] == "redis-ca")
    mount = next(m for m in container["volume_mounts"] if m["name"] == "redis-ca")
    assert tf.expand(mount["mount_path"]) == tf.expand("${local.redis_ca_dir}")
    assert tf.expand(one(one(volume, "secret"), "items")["path"]) == "ca.pem"


def test_cloud_armor_bans_floods_per_address_in_front_of_the_api() -> None:
    tf = terraform()
    policy = tf.resource("google_compute_security_policy", "api")
    [flood] = [rule for rule in policy["rule"] if rule["action"] == "rate_based_ban"]
    options = one(flood, "rate_limit_options")
    assert options["enforce_on_key"] == "IP"
    assert options["exceed_action"] == "deny(429)"

    backend = tf.resource("google_compute_backend_service", "api")
    assert backend["security_policy"] == "${google_compute_security_policy.api[0].id}"
    neg = tf.resource("google_compute_region_network_endpoint_group", "api")
    assert one(neg, "cloud_run")["service"] == "${google_cloud_run_v2_service.api.name}"


def test_the_edge_stops_floods_above_the_apps_own_per_address_limit() -> None:
    """The app's 429 (problem+json, Retry-After) comes first; the edge only stops floods."""
    tf = terraform()
    edge_per_minute = tf.variables["edge_requests_per_ip_per_minute"]["default"]
    [app_limit] = [
        item
        for item in parse_many(default("rate_limit_per_ip"))
        if item.GRANULARITY.name == "minute"
    ]

    assert edge_per_minute > app_limit.amount


def test_with_the_load_balancer_the_run_app_url_is_no_way_around_cloud_armor() -> None:
    tf = terraform()
    ingress = tf.resource("google_cloud_run_v2_service", "api")["ingress"]

    assert "local.edge" in ingress
    assert "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" in ingress


def test_the_relay_serves_nothing_to_limit() -> None:
    tf = terraform()
    env = environment(tf, container_of(tf, relay(tf)[0])[1])

    assert env["FOCUS_RATE_LIMITS"] == "false"
    assert "FOCUS_RATE_LIMIT_STORAGE" not in env


def test_app_check_modes_are_the_apps_and_start_by_counting() -> None:
    tf = terraform()
    env = api_env(tf)
    for platform in ("ios", "android"):
        name = f"FOCUS_APP_CHECK_{platform.upper()}"
        value = tf.expand(env[name])
        assert value == AppCheckMode.MONITOR.value
        condition = one(tf.variables[f"app_check_{platform}"], "validation")["condition"]
        assert all(f'"{mode.value}"' in condition for mode in AppCheckMode)
    assert env["FOCUS_APP_CHECK_PROJECT_NUMBER"] == "${data.google_project.this.number}"
