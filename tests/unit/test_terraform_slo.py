"""terraform/slo.tf, alerts.tf, dashboard.tf and monitoring.tf: the SLOs, their burn-rate alerts,
the operational alerts and the dashboard, checked against the SRE workbook's arithmetic, the
app's metrics and the runbooks (see test_terraform.py for how the configuration is parsed).

Terraform cannot run here, so the burn-rate thresholds, a `for` expression over the windows,
are evaluated by a small evaluator that knows numbers, the four operations and the window's
and the locals' attributes, and compared with the formula worked out in Python.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import typer
from typer.core import TyperGroup

from app.cli import cli
from tests.support.terraform import (
    API,
    TERRAFORM,
    Terraform,
    containers,
    environment,
    one,
    ref,
    relay,
    terraform,
)

ROOT = TERRAFORM.parent
RUNBOOKS = ROOT / "docs" / "runbooks"
APP_PACKAGES = (
    "ai", "api", "app", "datastore", "domain", "events", "exports", "identity", "jobs",
    "migration", "notifications", "privacy",
)  # fmt: skip

PERIOD_DAYS = 28
HOUR = 60  # minutes
WORKBOOK = {
    # name: (share of the period's budget, long window, short window (minutes), severity)
    "page_fast": (0.02, 1 * HOUR, 5, "CRITICAL"),
    "page_slow": (0.05, 6 * HOUR, 30, "CRITICAL"),
    "ticket": (0.10, 72 * HOUR, 6 * HOUR, "WARNING"),
}
SLOS = ("availability", "latency")
HISTOGRAM = "focus_http_request_duration_seconds"


def expected_burn_rate(share: float, long_window_minutes: int) -> float:
    """The rate that spends `share` of a PERIOD_DAYS budget within the long window."""
    period_hours = PERIOD_DAYS * 24
    return share * period_hours / (long_window_minutes / HOUR)


# --- the SLOs ------------------------------------------------------------------------------


def test_availability_is_999_of_requests_without_a_server_error_over_28_days() -> None:
    tf = terraform()
    slo = tf.resource("google_monitoring_slo", "availability")
    assert tf.expand(slo["goal"]) == 0.999
    assert tf.expand(slo["rolling_period_days"]) == PERIOD_DAYS
    assert "calendar_period" not in slo
    ratio = one(one(slo, "request_based_sli"), "good_total_ratio")
    total, bad = ratio["total_service_filter"], ratio["bad_service_filter"]
    for text in (total, bad):
        assert 'metric.type=\\"run.googleapis.com/request_count\\"' in text
        assert "local.api_requests_filter" in text
    assert 'response_code_class=\\"5xx\\"' in bad
    assert "response_code_class" not in total
    assert "good_service_filter" not in ratio


def test_latency_is_95_of_reads_within_300_ms_over_28_days() -> None:
    tf = terraform()
    slo = tf.resource("google_monitoring_slo", "latency")
    assert tf.expand(slo["goal"]) == 0.95
    assert tf.expand(slo["rolling_period_days"]) == PERIOD_DAYS
    cut = one(one(slo, "request_based_sli"), "distribution_cut")
    assert cut["distribution_filter"] == "${local.api_reads_filter}"
    assert tf.expand(one(cut, "range")["max"]) == 0.3  # the histogram is in seconds
    assert "min" not in one(cut, "range")


def test_the_latency_sli_reads_the_apps_histogram_for_gets_of_the_public_api() -> None:
    tf = terraform()
    reads = tf.expand(tf.locals["api_reads_filter"])
    api = tf.expand(tf.resource(*API)["name"])
    for clause in (
        f'metric.type=\\"prometheus.googleapis.com/{HISTOGRAM}/histogram\\"',
        'resource.type=\\"prometheus_target\\"',
        f'resource.labels.namespace=\\"{api}\\"',
        'metric.labels.method=\\"GET\\"',
        'metric.labels.route=monitoring.regex.full_match(\\"/v[0-9]+/.+\\")',
    ):
        assert clause in reads, clause


@pytest.mark.parametrize(
    ("route", "counted"),
    [
        ("/v1/focus-sessions/{session_id}", True),
        ("/v1/focus-sessions", True),
        ("/v2/sync", True),
        ("/internal/pubsub/notifications", False),
        ("/healthz", False),
        ("/console/requests/{request_id}", False),
        ("unmatched", False),
        ("/v1", False),
    ],
)
def test_the_latency_sli_counts_the_public_apis_routes_only(route: str, counted: bool) -> None:
    regex = terraform().locals["public_route_regex"]  # monitoring.regex.full_match: RE2
    assert bool(re.fullmatch(regex, route)) is counted


def test_the_objective_is_a_bucket_boundary_of_the_histogram() -> None:
    """A distribution cut counts whole buckets: 0.3 s must be an upper bound of one."""
    from api.request_metrics import REQUEST_DURATION

    bounds = REQUEST_DURATION._upper_bounds  # prometheus_client has no public accessor
    assert terraform().locals["slo_latency_max_seconds"] in bounds


def test_the_slis_count_focus_api_on_cloud_run() -> None:
    tf = terraform()
    requests = tf.expand(tf.locals["api_requests_filter"])
    assert 'resource.type=\\"cloud_run_revision\\"' in requests
    api = tf.expand(tf.resource("google_cloud_run_v2_service", "api")["name"])
    assert f'resource.labels.service_name=\\"{api}\\"' in requests
    for name in SLOS:
        service = tf.resource("google_monitoring_slo", name)["service"]
        assert service == "${google_monitoring_custom_service.api.service_id}"


# --- burn rates ----------------------------------------------------------------------------

BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
THRESHOLDS = re.compile(
    r"\$\{\{for (?P<key>\w+), (?P<item>\w+) in local\.burn_rate_windows : "
    r"(?P=key) => (?P<body>[^{}]+)\}\}"
)


def arithmetic(expression: str, names: dict[str, float]) -> float:
    """An HCL arithmetic expression of numbers and dotted names, nothing else."""

    def value(node: ast.expr) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            return BINARY[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.Attribute | ast.Name):
            dotted = ast.unparse(node)
            assert dotted in names, f"{dotted} is not known here"
            return names[dotted]
        raise AssertionError(f"not understood: {ast.unparse(node)}")

    return value(ast.parse(expression, mode="eval").body)


def burn_rate_thresholds(tf: Terraform) -> dict[str, float]:
    """local.burn_rate_thresholds as terraform renders it."""
    match = THRESHOLDS.fullmatch(tf.locals["burn_rate_thresholds"])
    assert match, tf.locals["burn_rate_thresholds"]
    numbers = {f"local.{k}": v for k, v in tf.locals.items() if isinstance(v, int | float)}
    rendered = {}
    for name, window in tf.locals["burn_rate_windows"].items():
        fields = {f"{match['item']}.{k}": v for k, v in window.items() if not isinstance(v, str)}
        rendered[name] = arithmetic(match["body"], numbers | fields)
    return rendered


def test_the_windows_are_the_workbooks() -> None:
    windows = terraform().locals["burn_rate_windows"]
    assert set(windows) == set(WORKBOOK)
    for name, (share, long, short, severity) in WORKBOOK.items():
        window = windows[name]
        assert window["budget_share"] == share, name
        assert window["long_window_minutes"] == long, name
        assert window["short_window_minutes"] == short == long // 12, name
        assert window["severity"] == severity, name
    assert terraform().locals["slo_period_days"] == PERIOD_DAYS


def test_burn_rate_thresholds_are_computed_for_a_28_day_period() -> None:
    rendered = burn_rate_thresholds(terraform())
    for name, (share, long, _, _) in WORKBOOK.items():
        assert rendered[name] == pytest.approx(expected_burn_rate(share, long), rel=1e-12)
    assert rendered["page_fast"] == pytest.approx(13.44)
    assert rendered["page_slow"] == pytest.approx(5.6)
    assert rendered["ticket"] == pytest.approx(0.9333333333333333)
    assert rendered["page_fast"] != pytest.approx(14.4)  # the 30-day number


def test_the_thresholds_follow_the_period() -> None:
    """Nothing in the expression is a constant for 28 days: change the period, the rate follows."""
    tf = terraform()
    locals_ = {**tf.locals, "slo_period_days": 30}
    rendered = burn_rate_thresholds(Terraform(tf.resources, locals_, tf.variables, tf.blocks))
    assert rendered["page_fast"] == pytest.approx(14.4)
    assert rendered["page_slow"] == pytest.approx(6.0)
    assert rendered["ticket"] == pytest.approx(1.0)


def render(tf: Terraform, text: str, slo: str, window: str) -> str:
    """A string of the burn-rate policy as terraform renders it for one SLO and window."""
    thresholds = burn_rate_thresholds(tf)
    windows = tf.locals["burn_rate_windows"]
    slos = tf.locals["slos"]

    def substitute(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression == "local.slos[each.value.slo].name" and slos[slo] == (
            f"${{google_monitoring_slo.{slo}}}"
        ):
            return f"SLO:{slo}"
        if expression == "local.burn_rate_thresholds[each.value.window]":
            return repr(thresholds[window])
        attribute = re.fullmatch(
            r"local\.burn_rate_windows\[each\.value\.window\]\.(\w+)", expression
        )
        if attribute:
            return str(windows[window][attribute.group(1)])
        if expression in ("each.value.slo", "each.value.window"):
            return {"each.value.slo": slo, "each.value.window": window}[expression]
        return match.group(0)

    return re.sub(r"\$\{([^{}]+)\}", substitute, text)


def test_each_slo_pages_and_tickets_when_both_windows_burn_too_fast() -> None:
    tf = terraform()
    policy = tf.resource("google_monitoring_alert_policy", "slo_burn_rate")
    assert policy["for_each"] == "${local.burn_rate_alerts}"
    alerts = tf.locals["burn_rate_alerts"]
    assert "keys(local.slos)" in alerts
    assert "keys(local.burn_rate_windows)" in alerts
    assert set(tf.locals["slos"]) == set(SLOS)
    assert policy["combiner"] == "AND"
    assert policy["notification_channels"] == "${var.alert_notification_channels}"
    thresholds = burn_rate_thresholds(tf)
    for slo in SLOS:
        for window, (_, long, short, severity) in WORKBOOK.items():
            assert render(tf, policy["severity"], slo, window) == severity
            urgency = render(tf, policy["user_labels"]["urgency"], slo, window)
            assert urgency == ("page" if severity == "CRITICAL" else "ticket")
            conditions = [one(c, "condition_threshold") for c in policy["conditions"]]
            assert [render(tf, c["filter"], slo, window) for c in conditions] == [
                f'select_slo_burn_rate("SLO:{slo}", "{long}m")',
                f'select_slo_burn_rate("SLO:{slo}", "{short}m")',
            ]
            for condition in conditions:
                assert condition["comparison"] == "COMPARISON_GT"
                rendered = float(render(tf, condition["threshold_value"], slo, window))
                assert rendered == thresholds[window]


# --- every alert ---------------------------------------------------------------------------

RUNBOOK_URL = "https://github.com/focus-app/backend/blob/main/docs/runbooks"


def alert_policies() -> Iterator[tuple[str, dict[str, Any]]]:
    yield from terraform().of_type("google_monitoring_alert_policy").items()


def test_there_are_the_operational_alerts() -> None:
    names = {name for name, _ in alert_policies()}
    assert {
        "slo_burn_rate",
        "outbox_lag",
        "outbox_relay_silent",
        "api_metrics_silent",
        "mirror_backlog",
        "dead_letters",
        "consumers_failing",
        "push_errors",
        "ai_token_budget",
        "privacy_requests_at_risk",
    } <= names


@pytest.mark.parametrize("name", sorted(name for name, _ in alert_policies()))
def test_every_alert_links_a_runbook_that_exists(name: str) -> None:
    tf = terraform()
    policy = tf.resource("google_monitoring_alert_policy", name)
    documentation = one(policy, "documentation")
    assert documentation["mime_type"] == "text/markdown"
    content = tf.expand(documentation["content"])
    links = re.findall(r"docs/runbooks/([\w-]+\.md)", content)
    assert links, f"{name}: no runbook in its documentation"
    for link in links:
        assert (RUNBOOKS / link).is_file(), f"{name}: docs/runbooks/{link} does not exist"
        assert f"{RUNBOOK_URL}/{link}" in content, f"{name}: link it as the others do"
    assert policy["severity"].startswith("${") or policy["severity"] in {
        "CRITICAL",
        "ERROR",
        "WARNING",
    }
    assert policy["notification_channels"] == "${var.alert_notification_channels}", name


def test_the_notification_channels_are_a_list_empty_by_default() -> None:
    variable = terraform().variables["alert_notification_channels"]
    declared = (TERRAFORM / "variables.tf").read_text()
    assert 'variable "alert_notification_channels"' in declared  # with the others
    assert variable["default"] == []
    assert variable["type"] == "${list(string)}"
    assert variable.get("description")


def test_every_runbook_is_in_the_index() -> None:
    index = (RUNBOOKS / "README.md").read_text()
    for path in RUNBOOKS.glob("*.md"):
        if path.name != "README.md":
            assert f"({path.name})" in index, f"{path.name} is not linked from the index"


def test_the_ai_budget_alert_compares_with_the_soft_limit_the_api_gets() -> None:
    tf = terraform()
    policy = tf.resource("google_monitoring_alert_policy", "ai_token_budget")
    queries = [one(c, "condition_prometheus_query_language")["query"] for c in policy["conditions"]]
    assert any(
        "focus_ai_tokens_reserved_total[24h]" in q and q.endswith("> ${var.ai_daily_tokens_soft}")
        for q in queries
    )


def test_the_dead_letter_alert_watches_both_dead_letter_subscriptions() -> None:
    tf = terraform()
    query = one(
        one(tf.resource("google_monitoring_alert_policy", "dead_letters"), "conditions"),
        "condition_prometheus_query_language",
    )["query"]
    subscriptions = set(re.findall(r"google_pubsub_subscription\.(\w+)\.name", query))
    dead_topics = {
        name
        for name, topic in tf.of_type("google_pubsub_topic").items()
        if tf.expand(topic["name"]).endswith("-dead")
    }
    watched = {
        name
        for name, body in tf.of_type("google_pubsub_subscription").items()
        if body["topic"] in {f"${{google_pubsub_topic.{topic}.id}}" for topic in dead_topics}
    }
    assert watched
    assert subscriptions == watched


# --- metric names --------------------------------------------------------------------------

DECLARED = re.compile(r"\b(Counter|Gauge|Histogram|Summary)\(\s*\"([a-zA-Z_:][\w:]*)\"")
GOOGLE_METRICS = {
    "run_googleapis_com:request_count",
    "run_googleapis_com:request_latencies_bucket",
    "pubsub_googleapis_com:subscription_num_undelivered_messages",
}
PROMQL_WORDS = {"by", "on", "and", "or", "unless", "without", "ignoring", "bool", "offset"}


def exposed(kind: str, name: str) -> set[str]:
    """What prometheus_client exposes for a metric declared as `kind(name)`."""
    match kind:
        case "Counter":
            return {name.removesuffix("_total") + "_total"}
        case "Histogram":
            return {name} | {f"{name}_{suffix}" for suffix in ("bucket", "sum", "count")}
        case "Summary":
            return {name, f"{name}_sum", f"{name}_count"}
        case _:
            return {name}


def app_metrics() -> set[str]:
    names: set[str] = set()
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for kind, name in DECLARED.findall(path.read_text()):
                names |= exposed(kind, name)
    return names


def metric_names(tf: Terraform, query: str) -> set[str]:
    """The metrics a PromQL query selects (functions, keywords, labels and ranges left out)."""
    text = re.sub(r"\$\{[^{}]*\}", "0", tf.expand(query))
    text = re.sub(r'"[^"]*"', "", text)
    text = re.sub(r"\{[^{}]*\}|\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set(re.findall(r"(?<![\w.])([a-zA-Z_:][\w:]*)\b(?!\s*\()", text))
    return names - PROMQL_WORDS


def promql(tf: Terraform) -> Iterator[tuple[str, str]]:
    for name, policy in tf.of_type("google_monitoring_alert_policy").items():
        for condition in policy["conditions"]:
            for block in condition.get("condition_prometheus_query_language", []):
                yield name, block["query"]
    for tile in tf.locals["dashboard"]["mosaicLayout"]["tiles"]:
        for data_set in tile["widget"]["xyChart"]["dataSets"]:
            query = data_set["timeSeriesQuery"].get("prometheusQuery")
            if query is not None:
                yield tile["widget"]["title"], query


def test_the_metric_extraction_finds_the_app_metrics() -> None:
    metrics = app_metrics()
    assert {
        "focus_outbox_lag_seconds",
        "focus_push_sent_total",
        "focus_ai_tokens_reserved_total",
        "focus_ai_provider_latency_seconds_bucket",
        f"{HISTOGRAM}_bucket",
        f"{HISTOGRAM}_count",
    } <= metrics
    assert metric_names(
        terraform(),
        'sum by (le) (rate(a_b_bucket{x="1"}[5m])) / on (y) c_total > 3 and absent(d)',
    ) == {"a_b_bucket", "c_total", "d"}


def test_every_metric_a_query_reads_is_one_the_app_or_google_writes() -> None:
    tf = terraform()
    known = app_metrics() | GOOGLE_METRICS
    seen: set[str] = set()
    for where, query in promql(tf):
        names = metric_names(tf, query)
        assert names, f"{where}: no metric found in {query!r}"
        assert names <= known, f"{where}: {sorted(names - known)} are not declared anywhere"
        seen |= names
    assert len(seen) >= 15


# --- the metrics reach Managed Prometheus ---------------------------------------------------


def test_the_api_and_the_relay_report_their_metrics() -> None:
    tf = terraform()
    workloads = tf.locals["metrics_workloads"]
    assert set(workloads) >= {"api", "relay"}
    assert tf.expand(workloads["api"]["name"]) == tf.expand(tf.resource(*API)["name"])
    assert tf.expand(workloads["relay"]["name"]) == tf.expand(relay(tf)[1]["name"])


def _workload(tf: Terraform, key: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    name = tf.expand(tf.locals["metrics_workloads"][key]["name"])
    found = [
        (address, template, container)
        for address, template, container in containers(tf)
        if container.get("command") == ["focus"]
        and tf.expand(tf.resource(*address.split("."))["name"]) == name
    ]
    assert len(found) == 1, f"one Cloud Run resource runs focus as {name}"
    return found[0]


@pytest.mark.parametrize("key", sorted(terraform().locals["metrics_workloads"]))
def test_each_reporting_workload_serves_metrics_that_its_sidecar_scrapes(key: str) -> None:
    tf = terraform()
    address, template, app = _workload(tf, key)
    port = tf.expand(environment(tf, app)["FOCUS_METRICS_PORT"])
    assert port == "${tostring(local.metrics_port)}", f"{address}: FOCUS_METRICS_PORT"
    assert tf.locals["metrics_port"] not in {p["container_port"] for p in app.get("ports", [])}

    image = "${var.metrics_sidecar_image}"
    sidecars = [c for c in template["containers"] if c.get("image") == image]
    assert len(sidecars) == 1, f"{address}: one managed-Prometheus sidecar"
    sidecar = sidecars[0]
    assert sidecar["depends_on"] == [app["name"]], "the sidecar starts after the app"
    assert "ports" not in sidecar  # the app's container alone takes requests
    mount = one(sidecar, "volume_mounts")
    assert tf.expand(mount["mount_path"]) == "/etc/rungmp"
    volume = next(v for v in template["volumes"] if v["name"] == mount["name"])
    secret = one(volume, "secret")
    config = f'google_secret_manager_secret.metrics_config["{key}"]'
    assert secret["secret"] == f"${{{config}.secret_id}}"
    assert one(secret, "items") == {"version": "latest", "path": "config.yaml"}

    sa = ref(template["service_account"], "google_service_account", "email")
    member = f"${{google_service_account.{sa}.member}}"
    assert tf.locals["metrics_workloads"][key]["member"] == member
    writers = {
        grant["member"]
        for grant in tf.of_type("google_project_iam_member").values()
        if "roles/monitoring.metricWriter" in json.dumps(grant)
    }
    assert member in writers, f"{sa}: no metricWriter"


def test_the_sidecar_config_scrapes_the_metrics_port_and_each_workload_reads_its_own() -> None:
    tf = terraform()
    version = tf.resource("google_secret_manager_secret_version", "metrics_config")
    access = tf.resource("google_secret_manager_secret_iam_member", "metrics_config")
    for body in (version, access, tf.resource("google_secret_manager_secret", "metrics_config")):
        assert body["for_each"] == "${local.metrics_workloads}"
    data = version["secret_data"]
    assert 'kind = "RunMonitoring"' in data
    assert "port = tostring(local.metrics_port)" in data
    assert 'path = "/metrics"' in data
    assert "metadata = {name = each.value.name}" in data
    assert access["role"] == "roles/secretmanager.secretAccessor"
    assert access["member"] == "${each.value.member}"
    assert tf.locals["metrics_workloads"]["relay"]["target_labels"] == ["revision"]  # no service


def test_the_silent_relay_alert_listens_to_the_relay_alone() -> None:
    """focus-api imports the relay's metrics and reports the lag gauge too, at 0."""
    tf = terraform()
    policy = tf.resource("google_monitoring_alert_policy", "outbox_relay_silent")
    query = one(one(policy, "conditions"), "condition_prometheus_query_language")["query"]
    assert tf.expand(query) == 'absent(focus_outbox_lag_seconds{namespace="focus-relay"})'


# --- the dashboard -------------------------------------------------------------------------


def test_the_dashboard_is_json_and_its_tiles_fit_and_do_not_overlap() -> None:
    tf = terraform()
    dashboard = tf.resource("google_monitoring_dashboard", "api")
    assert dashboard["dashboard_json"] == "${jsonencode(local.dashboard)}"
    layout = json.loads(json.dumps(tf.locals["dashboard"]))["mosaicLayout"]
    columns = layout["columns"]
    assert columns <= 48
    taken: set[tuple[int, int]] = set()
    for tile in layout["tiles"]:
        assert tile["xPos"] + tile["width"] <= columns, tile["widget"]["title"]
        cells = {
            (x, y)
            for x in range(tile["xPos"], tile["xPos"] + tile["width"])
            for y in range(tile["yPos"], tile["yPos"] + tile["height"])
        }
        assert not cells & taken, f"{tile['widget']['title']} overlaps another tile"
        taken |= cells
        for data_set in tile["widget"]["xyChart"]["dataSets"]:
            assert len(data_set["timeSeriesQuery"]) == 1


def test_the_dashboard_shows_both_slis_and_what_happens_after_the_request() -> None:
    text = json.dumps(terraform().locals["dashboard"])
    for slo in SLOS:
        assert f'select_slo_health(\\"${{google_monitoring_slo.{slo}.name}}\\")' in text
    for metric in (
        "run_googleapis_com:request_count",
        "run_googleapis_com:request_latencies_bucket",
        "focus_outbox_lag_seconds",
        "focus_events_consumed_total",
        "focus_push_sent_total",
        "focus_ai_calls_total",
        "focus_ai_refusals_total",
        "focus_ai_tokens_reserved_total",
        f"{HISTOGRAM}_bucket",
    ):
        assert metric in text, metric


def test_every_focus_command_in_the_runbooks_exists() -> None:
    root = typer.main.get_command(cli)
    assert isinstance(root, TyperGroup)
    found = 0
    for path in RUNBOOKS.glob("*.md"):
        for group, command in re.findall(r"`focus ([a-z-]+) ([a-z-]+)", path.read_text()):
            sub = root.commands.get(group)
            assert isinstance(sub, TyperGroup), f"{path.name}: no `focus {group}`"
            assert command in sub.commands, f"{path.name}: no `focus {group} {command}`"
            found += 1
    assert found
