"""terraform/growth.tf: the growth exports' bucket, BigQuery tables and daily run (ADR 0020).

The growth team reads pseudonymised Parquet through BigQuery and nothing else: a bucket of its
own (never the files bucket of data-subject exports), written by the daily Cloud Run job
alone (`focus exports run --compact`, as its own service account, started by Cloud Scheduler
through the Cloud Run Admin API), read by a BigQuery connection; one table per dataset of the
export contract, so that a dataset added to `domain.growth.contract` without its table fails
here; a `_latest` view per mutable dataset.
"""

from __future__ import annotations

import os
import re
import textwrap
from typing import Any

import pytest

from app.settings import (
    Environment,
    EventsTransport,
    FilesTransport,
    PushTransport,
    Settings,
    TasksTransport,
    check,
)
from domain.growth.contract import CONTRACT_VERSION, DATASETS, ColumnType, Dataset
from tests.support.terraform import (
    API,
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
    setting_names,
    strings,
    terraform,
)

APPEND_ONLY = {"events"}
"""Datasets whose rows are never new versions of a record: no `_latest` view."""

STAGING = "growth/_staging/"
PUBLIC = {"allUsers", "allAuthenticatedUsers"}
JOB_NAME = "focus-growth-exports"
JOB = "google_cloud_run_v2_job"
RUN_ADMIN_API = "https://run.googleapis.com/v2"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


def export_job(tf: Terraform) -> str:
    """The Cloud Run job named focus-growth-exports (its resource name in terraform)."""
    found = [name for name, body in tf.of_type(JOB).items() if body["name"] == JOB_NAME]
    assert len(found) == 1, f"one {JOB} should be named {JOB_NAME}"
    return found[0]


def job_container(tf: Terraform) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the job's task template, its `focus` container)."""
    return container_of(tf, f"{JOB}.{export_job(tf)}")


def job_env(tf: Terraform) -> dict[str, Any]:
    return environment(tf, job_container(tf)[1])


def exports_sa(tf: Terraform) -> str:
    """The service account the job runs as."""
    return ref(job_container(tf)[0]["service_account"], "google_service_account", "email")


def growth_bucket(tf: Terraform) -> str:
    """The bucket the job's FOCUS_GROWTH_BUCKET names (the resource's name in terraform)."""
    return ref(job_env(tf)["FOCUS_GROWTH_BUCKET"], "google_storage_bucket", "name")


def connection_reader(tf: Terraform) -> str:
    """How terraform names the BigQuery connection's own service account as a member."""
    connection = f"${{google_bigquery_connection.{connection_name(tf)}"
    return f"serviceAccount:{connection}.cloud_resource[0].service_account_id}}"


def files_bucket(tf: Terraform) -> str:
    return ref(api_env(tf)["FOCUS_FILES_BUCKET"], "google_storage_bucket", "name")


def bucket_grants(tf: Terraform, bucket: str) -> list[dict[str, Any]]:
    named = f"${{google_storage_bucket.{bucket}.name}}"
    return [g for g in grants(tf, "google_storage_bucket_iam_member") if g["bucket"] == named]


def growth_datasets(tf: Terraform) -> dict[str, dict[str, Any]]:
    """`local.growth_datasets`: dataset -> partition, the key of its latest, whether it deletes."""
    datasets: dict[str, dict[str, Any]] = tf.locals["growth_datasets"]
    return datasets


def tables(tf: Terraform) -> tuple[str, dict[str, Any]]:
    """The one for_each resource of external tables: (its name, its body)."""
    found = [
        (name, body)
        for name, body in tf.of_type("google_bigquery_table").items()
        if "external_data_configuration" in body
    ]
    assert len(found) == 1, "one google_bigquery_table (for_each) should hold the datasets"
    return found[0]


def views(tf: Terraform) -> tuple[str, dict[str, Any]]:
    found = [
        (name, body) for name, body in tf.of_type("google_bigquery_table").items() if "view" in body
    ]
    assert len(found) == 1, "one google_bigquery_table (for_each) should hold the views"
    return found[0]


def for_each(text: str, key: str, value: dict[str, Any]) -> str:
    """`text` for one instance: `${each.key}` and plain `${each.value.x}` filled in."""
    text = text.replace("${each.key}", key)
    return re.sub(r"\$\{each\.value\.(\w+)\}", lambda m: str(value[m.group(1)]), text)


def by_name(dataset: str) -> Dataset:
    return next(d for d in DATASETS if d.name == dataset)


# --- the bucket ------------------------------------------------------------------------------


def test_the_growth_bucket_is_its_own_private_unversioned_and_in_the_files_bucket_region() -> None:
    tf = terraform()
    name = growth_bucket(tf)
    assert name != files_bucket(tf), "growth exports must not share the privacy files bucket"
    bucket = tf.resource("google_storage_bucket", name)
    files = tf.resource("google_storage_bucket", files_bucket(tf))
    assert tf.expand(bucket["name"]) != tf.expand(files["name"])
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    assert one(bucket, "versioning")["enabled"] is False
    assert bucket["force_destroy"] is False
    assert bucket["location"] == files["location"] == "${var.region}"
    assert "labels" not in bucket  # the provider's default_labels, as on files
    for grant in bucket_grants(tf, name):
        assert grant["member"] not in PUBLIC


def test_only_staged_runs_expire_after_seven_days() -> None:
    bucket = terraform().resource("google_storage_bucket", growth_bucket(terraform()))
    rules = bucket["lifecycle_rule"]
    assert len(rules) == 1, "published files stay: only the staging area expires"
    condition = one(rules[0], "condition")
    assert condition["matches_prefix"] == [STAGING]
    assert condition["age"] == 7
    assert one(rules[0], "action")["type"] == "Delete"


def test_only_the_export_job_writes_the_growth_bucket_and_only_the_connection_reads_it() -> None:
    tf = terraform()
    name = growth_bucket(tf)
    held = {(g["role"], g["member"]) for g in bucket_grants(tf, name)}
    # Exactly two grants: the job's account writes, BigQuery's connection reads. No workload
    # other than the job (not focus-api, the relay, the console, migrations) holds any role.
    assert len(bucket_grants(tf, name)) == 2
    writers = {member for role, member in held if role == "roles/storage.objectAdmin"}
    assert len(writers) == 1, f"objectAdmin on the growth bucket: {writers}"
    assert writers <= members_of(exports_sa(tf)), f"objectAdmin on the growth bucket: {writers}"
    readers = {member for role, member in held if role == "roles/storage.objectViewer"}
    assert readers == {connection_reader(tf)}
    assert {role for role, _ in held} == {
        "roles/storage.objectAdmin",
        "roles/storage.objectViewer",
    }
    workloads = {
        ref(template["service_account"], "google_service_account", "email")
        for _, template, _ in containers(tf)
    }
    assert exports_sa(tf) in workloads
    for sa in workloads - {exports_sa(tf)}:
        assert not {member for _, member in held} & members_of(sa), f"{sa} holds a role on it"
    assert not [
        g
        for kind in ("google_storage_bucket_iam_binding", "google_storage_bucket_iam_policy")
        for g in grants(tf, kind)
    ]
    # No storage role project-wide: the grant is the bucket's.
    for grant in grants(tf, "google_project_iam_member"):
        assert "roles/storage." not in str(grant), grant


def test_focus_growth_bucket_is_the_export_jobs_alone() -> None:
    tf = terraform()
    assert job_env(tf)["FOCUS_GROWTH_BUCKET"] == (
        f"${{google_storage_bucket.{growth_bucket(tf)}.name}}"
    )
    # focus-api no longer runs exports: it neither names the bucket nor may write it.
    assert "FOCUS_GROWTH_BUCKET" not in api_env(tf)
    writers = {g["member"] for g in bucket_grants(tf, growth_bucket(tf))}
    named = []
    for address, template, container in containers(tf):
        if "FOCUS_GROWTH_BUCKET" in environment(tf, container):
            named.append(address)
            sa = ref(template["service_account"], "google_service_account", "email")
            assert members_of(sa) & writers, f"{address} names the growth bucket it cannot write"
    assert named == [f"{JOB}.{export_job(tf)}"]


# --- BigQuery --------------------------------------------------------------------------------


def connection_name(tf: Terraform) -> str:
    found = tf.of_type("google_bigquery_connection")
    assert len(found) == 1
    return next(iter(found))


def dataset_name(tf: Terraform) -> str:
    return ref(tables(tf)[1]["dataset_id"], "google_bigquery_dataset", "dataset_id")


def test_the_growth_dataset_sits_with_the_bucket_and_keeps_its_tables() -> None:
    tf = terraform()
    dataset = tf.resource("google_bigquery_dataset", dataset_name(tf))
    bucket = tf.resource("google_storage_bucket", growth_bucket(tf))
    assert dataset["dataset_id"] == "growth"
    assert dataset["location"] == bucket["location"]
    assert "default_table_expiration_ms" not in dataset
    assert "default_partition_expiration_ms" not in dataset
    assert "access" not in dataset, "who reads it: dataset IAM members, tested below"
    provider = tf.blocks["provider"][0]["google"]
    assert provider["default_labels"] == "${local.labels}"  # the dataset's labels
    connection = tf.resource("google_bigquery_connection", connection_name(tf))
    assert connection["location"] == dataset["location"]
    assert one(connection, "cloud_resource") == {}
    services = set(
        strings([body.get("for_each") for body in tf.of_type("google_project_service").values()])
    )
    for api in ("bigquery.googleapis.com", "bigqueryconnection.googleapis.com"):
        assert any(api in text for text in services), f"{api} is not enabled"


def test_every_contract_dataset_has_its_external_table_over_its_parquet_files() -> None:
    tf = terraform()
    datasets = growth_datasets(tf)
    assert set(datasets) == {d.name for d in DATASETS}, "one table per contract dataset"
    name, table = tables(tf)
    assert table["for_each"] == "${local.growth_datasets}"
    assert table["table_id"] == "${each.key}"
    external = one(table, "external_data_configuration")
    assert external["source_format"] == "PARQUET"
    assert external["autodetect"] is True
    assert "schema" not in table, "the schema comes from the files (built from the contract)"
    assert (
        external["connection_id"] == f"${{google_bigquery_connection.{connection_name(tf)}.name}}"
    )
    hive = one(external, "hive_partitioning_options")
    assert hive["mode"] == "CUSTOM"
    assert hive["require_partition_filter"] is False
    bucket = f"gs://${{google_storage_bucket.{growth_bucket(tf)}.name}}"
    uris = [tf.expand(uri) for uri in external["source_uris"]]
    prefix = tf.expand(hive["source_uri_prefix"])
    for dataset in DATASETS:
        here = f"{bucket}/growth/v{CONTRACT_VERSION}/{dataset.name}"
        spec = datasets[dataset.name]
        assert [for_each(uri, dataset.name, spec) for uri in uris] == [f"{here}/*"]
        partitioned = f"{here}/{{{dataset.partition}:DATE}}"
        assert for_each(prefix, dataset.name, spec) == partitioned, f"{name}[{dataset.name}]"
        assert dataset.column(dataset.partition).type is ColumnType.DATE


# --- the latest versions -----------------------------------------------------------------------


def test_each_mutable_dataset_keeps_each_records_largest_change_in_a_view() -> None:
    tf = terraform()
    datasets = growth_datasets(tf)
    with_view = {name for name, spec in datasets.items() if spec["latest_by"]}
    assert with_view == {d.name for d in DATASETS} - APPEND_ONLY
    assert tf.expand(views(tf)[1]["for_each"]) == (
        "${{for name, dataset in local.growth_datasets : name => dataset"
        " if length(dataset.latest_by) > 0}}"
    )
    for name in with_view:
        dataset, key = by_name(name), datasets[name]["latest_by"]
        assert "change" in dataset.column_names
        assert key[0] == "pseudonym"
        assert ("record" in key) == ("record" in dataset.column_names), name
        assert set(key) <= set(dataset.column_names), name
        assert datasets[name]["deletes"] == ("deleted" in dataset.column_names), name
    assert datasets["users"]["latest_by"] == ["pseudonym"]
    assert datasets["daily_usage"]["latest_by"] == ["pseudonym", "record", "date"]
    _, view = views(tf)
    assert view["table_id"] == "${each.key}_latest"
    assert one(view, "view")["use_legacy_sql"] is False


def rendered_view(tf: Terraform, dataset: str, source: str) -> str:
    """The view's query for one dataset, reading table `source`: terraform's template filled
    in, as the provider would (the heredoc, join, the conditional, the table's address)."""
    name, view = views(tf)
    spec = growth_datasets(tf)[dataset]
    heredoc = one(view, "view")["query"]
    assert heredoc.startswith("<<-SQL\n")
    query = textwrap.dedent(heredoc.removeprefix("<<-SQL\n").rsplit("\n", 1)[0])
    query = query.replace('${join(", ", each.value.latest_by)}', ", ".join(spec["latest_by"]))
    query = re.sub(
        r'\$\{each\.value\.deletes \? "([^"]*)" : "([^"]*)"\}',
        lambda m: m.group(1) if spec["deletes"] else m.group(2),
        query,
    )
    table = tables(tf)[0]
    parts = ("project", "dataset_id", "table_id")
    address = ".".join(f"${{google_bigquery_table.{table}[each.key].{part}}}" for part in parts)
    assert f"`{address}`" in query, f"{name} must read the dataset's own table"
    query = query.replace(f"`{address}`", source)
    assert "${" not in query, query
    return query


DUCKDB_TYPES = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.INT32: "INTEGER",
    ColumnType.INT64: "BIGINT",
    ColumnType.BOOL: "BOOLEAN",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.STRINGS: "VARCHAR[]",
}
PER_DAY = {"daily_usage"}
"""Datasets whose record is a day of something: the same record on another day is another."""


@pytest.mark.parametrize(
    "dataset", sorted({d.name for d in DATASETS} - APPEND_ONLY), ids=lambda name: name
)
def test_the_latest_view_keeps_each_records_last_version_and_drops_deleted_records(
    dataset: str,
) -> None:
    """The view's SQL, filled in and run by DuckDB over a table of the contract's columns."""
    duckdb: Any = pytest.importorskip("duckdb")
    contract = by_name(dataset)
    db = duckdb.connect()
    db.execute(
        "CREATE TABLE versions ("
        + ", ".join(f"{c.name} {DUCKDB_TYPES[c.type]}" for c in contract.columns)
        + ")"
    )

    def version(record: str, change: int, day: str, deleted: bool = False) -> None:
        values = {"pseudonym": record, "record": record, "change": change, "date": day}
        values["deleted"] = deleted
        db.table("versions").insert([values.get(name) for name in contract.column_names])

    version("a", 1, "2026-11-30")
    version("a", 3, "2026-12-01")  # a's later version, written the next day
    version("b", 5, "2026-12-01")
    version("b", 4, "2026-12-01")  # b's earlier version, the same day
    expected = {3, 5} | ({1} if dataset in PER_DAY else set())  # per day: another record
    if "deleted" in contract.column_names:
        version("c", 2, "2026-12-01")
        version("c", 9, "2026-12-02", deleted=True)  # c is gone

    found = db.execute(rendered_view(terraform(), dataset, "versions")).fetchall()
    names = [column[0] for column in db.description]
    assert names == list(contract.column_names), "every column of the contract, no `rn`"
    assert {dict(zip(names, row, strict=True))["change"] for row in found} == expected


# --- the growth team -------------------------------------------------------------------------


def test_the_growth_team_reads_the_growth_dataset_and_runs_queries_nothing_more() -> None:
    tf = terraform()
    group = "${var.growth_team_group}"
    variable = tf.variables["growth_team_group"]
    assert variable.get("description")
    assert "^group:" in str(variable["validation"])
    held: list[tuple[str, str, Any]] = []
    for kind, named in tf.resources.items():
        for body in named.values():
            if group in set(strings(body)):
                held.append((kind, body.get("role", ""), body))
    assert sorted((kind, role) for kind, role, _ in held) == [
        ("google_bigquery_dataset_iam_member", "roles/bigquery.dataViewer"),
        ("google_project_iam_member", "roles/bigquery.jobUser"),
    ]
    dataset = next(body for kind, _, body in held if kind.startswith("google_bigquery_dataset"))
    assert dataset["dataset_id"] == f"${{google_bigquery_dataset.{dataset_name(tf)}.dataset_id}}"
    assert dataset["member"] == group
    # Nothing on any bucket (the connection reads the files): not the growth bucket, and never
    # the privacy files bucket of data-subject exports. Only service accounts hold roles there.
    for bucket in (growth_bucket(tf), files_bucket(tf)):
        for grant in bucket_grants(tf, bucket):
            member = tf.expand(grant["member"])
            assert member.startswith("serviceAccount:") or member in (
                members_of("api") | members_of("console") | members_of(exports_sa(tf))
            ), f"{member} holds {grant['role']} on {bucket}"
    assert not tf.of_type("google_bigquery_dataset_iam_binding")
    assert not tf.of_type("google_bigquery_dataset_iam_policy")


# --- the daily run ---------------------------------------------------------------------------


def seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, f"{duration!r} is not a duration in seconds"
    return int(match.group(1))


def test_the_export_is_a_cloud_run_job_running_focus_exports_run_compact() -> None:
    tf = terraform()
    job = tf.resource(JOB, export_job(tf))
    template, container = job_container(tf)
    assert one(job, "template")["task_count"] == 1
    assert container["command"] == ["focus"]
    assert container["args"] == ["exports", "run", "--compact"]
    assert container["image"] == container_of(tf, ".".join(API))[1]["image"] == "${var.image}"
    # A run takes minutes: far beyond focus-api's requests, within the job's own timeout.
    assert seconds(template["timeout"]) == 3600
    assert seconds(template["timeout"]) > seconds(tf.resource(*API)["template"][0]["timeout"])
    # One retry: an interrupted run resumes its own window (ADR 0020), nothing is doubled.
    assert template["max_retries"] == 1
    assert job["location"] == "${var.region}"
    assert job["deletion_protection"] is True
    limits = one(container, "resources")["limits"]
    assert limits == {"cpu": "2", "memory": "2Gi"}
    assert "ports" not in container


def test_the_job_writes_the_growth_bucket_and_reads_the_database_through_the_connector() -> None:
    tf = terraform()
    template, container = job_container(tf)
    env = job_env(tf)
    assert env["FOCUS_ENV"] == Environment.PRODUCTION.value
    assert env["FOCUS_FILES"] == FilesTransport.GCS.value
    assert env["FOCUS_GROWTH_BUCKET"] == f"${{google_storage_bucket.{growth_bucket(tf)}.name}}"
    # The database: the very secret focus-api reads, through the Cloud SQL socket.
    url = env["DATABASE_URL"]
    assert isinstance(url, SecretRef)
    assert url == api_env(tf)["DATABASE_URL"]
    secret = ref(url.secret, "google_secret_manager_secret", "secret_id")
    assert_reads_secret(tf, secret, exports_sa(tf))
    sockets = {
        volume["name"]: one(volume, "cloud_sql_instance")["instances"]
        for volume in template["volumes"]
        if "cloud_sql_instance" in volume
    }
    api_template, _ = container_of(tf, ".".join(API))
    api_sockets = {
        volume["name"]: one(volume, "cloud_sql_instance")["instances"]
        for volume in api_template["volumes"]
        if "cloud_sql_instance" in volume
    }
    assert sockets == api_sockets
    mounts = {tf.expand(m["mount_path"]): m["name"] for m in container["volume_mounts"]}
    assert mounts == {"/cloudsql": next(iter(sockets))}


def test_the_jobs_configuration_passes_the_production_settings_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What `focus` checks at start-up in production (app/settings.py `check`), with the job's
    variables: it must start, and build the growth exporter (GCS with a growth bucket)."""
    tf = terraform()
    for name in list(os.environ):
        if name.upper() in setting_names():
            monkeypatch.delenv(name)
    for name, value in job_env(tf).items():
        monkeypatch.setenv(name, concrete(tf, name, value))

    settings = check(Settings(_env_file=None))  # raises what production would refuse

    assert settings.env is Environment.PRODUCTION
    assert settings.files_transport is FilesTransport.GCS
    assert settings.growth_bucket  # app/growth_wiring.py: no bucket, no exporter
    assert settings.events_transport is EventsTransport.PUBSUB
    assert settings.tasks_transport is TasksTransport.CLOUD_TASKS
    # Like the relay: no pushes (no APNs key), no rate limits (no Redis), no data-subject
    # requests (no key naming their subjects).
    assert settings.push_transport is PushTransport.LOG
    assert not settings.rate_limits
    assert not settings.privacy_requests
    assert not settings.runs_relay_in_process
    assert not settings.runs_task_worker_in_process


def secrets_read_by(tf: Terraform, sa: str) -> set[str]:
    """The secrets service account `sa` may read (their names in terraform)."""
    found: set[str] = set()
    for grant in grants(tf, "google_secret_manager_secret_iam_member"):
        members = set(strings(tf.expand(grant.get("for_each", grant["member"]))))
        if members & members_of(sa):
            found.add(ref(grant["secret_id"], "google_secret_manager_secret", "id"))
    return found


def test_the_job_runs_as_its_own_account_holding_only_what_it_uses() -> None:
    tf = terraform()
    sa = exports_sa(tf)
    account = tf.resource("google_service_account", sa)
    assert account["account_id"] == "focus-exports"
    others = {
        ref(template["service_account"], "google_service_account", "email")
        for address, template, _ in containers(tf)
        if address != f"{JOB}.{export_job(tf)}"
    }
    assert sa not in others | {invoker_sa(tf)}, "the job shares an account"
    # Project-wide: the Cloud SQL connector only (no resource-level IAM for it).
    held = [g for g in grants(tf, "google_project_iam_member") if g["member"] in members_of(sa)]
    assert [g["role"] for g in held] == ["roles/cloudsql.client"]
    # Secrets: exactly those it reads.
    env = job_env(tf)
    read = {
        ref(value.secret, "google_secret_manager_secret", "secret_id")
        for value in env.values()
        if isinstance(value, SecretRef)
    }
    assert secrets_read_by(tf, sa) == read == {"database_url"}
    # Buckets: objectAdmin on the growth bucket, nothing on the files bucket (whose name the
    # settings check wants with GCS files, and which this process never touches).
    on_buckets = [
        (g["bucket"], g["role"])
        for g in grants(tf, "google_storage_bucket_iam_member")
        if g["member"] in members_of(sa)
    ]
    assert on_buckets == [
        (f"${{google_storage_bucket.{growth_bucket(tf)}.name}}", "roles/storage.objectAdmin")
    ]
    assert env["FOCUS_FILES_BUCKET"] == f"${{google_storage_bucket.{files_bucket(tf)}.name}}"
    # Nothing else names it: no role on any other kind of resource, no one may act as it.
    kinds = {
        kind
        for kind, resources in tf.resources.items()
        for body in resources.values()
        if re.search(r"_iam_(member|binding|policy)$", kind) and set(strings(body)) & members_of(sa)
    }
    assert kinds == {
        "google_project_iam_member",
        "google_secret_manager_secret_iam_member",
        "google_storage_bucket_iam_member",
    }
    for grant in grants(tf, "google_service_account_iam_member"):
        assert grant["service_account_id"] != f"${{google_service_account.{sa}.name}}", grant


def scheduler_job(tf: Terraform) -> dict[str, Any]:
    jobs = [
        body
        for body in tf.of_type("google_cloud_scheduler_job").values()
        if body["name"] == JOB_NAME
    ]
    assert len(jobs) == 1
    return jobs[0]


def test_scheduler_runs_the_job_daily_through_the_cloud_run_admin_api() -> None:
    tf = terraform()
    job = scheduler_job(tf)
    assert job["schedule"] == "0 3 * * *"
    assert job["time_zone"] == "Etc/UTC"
    assert job["region"] == tf.resource(JOB, export_job(tf))["location"] == "${var.region}"
    target = one(job, "http_target")
    assert target["http_method"] == "POST"
    assert target["uri"] == (
        f"{RUN_ADMIN_API}/projects/${{var.project_id}}/locations/${{var.region}}"
        f"/jobs/${{{JOB}.{export_job(tf)}.name}}:run"
    )
    # A Google API takes an OAuth access token, not an OIDC token of focus-api's audience.
    assert "oidc_token" not in target
    oauth = one(target, "oauth_token")
    assert oauth["service_account_email"] == f"${{google_service_account.{invoker_sa(tf)}.email}}"
    assert oauth["scope"] == CLOUD_PLATFORM
    # Retried like the other jobs, with the same deadline (jobs.run answers at once).
    watch = tf.resource("google_cloud_scheduler_job", "privacy_watch")
    assert one(job, "retry_config") == one(watch, "retry_config")
    assert one(job, "retry_config")["retry_count"] >= 1
    assert job["attempt_deadline"] == watch["attempt_deadline"]
    # Nothing asks focus-api to export any more.
    for body in tf.of_type("google_cloud_scheduler_job").values():
        assert "exports.run" not in str(one(body, "http_target")["uri"]), body["name"]


def test_the_scheduler_account_may_run_this_job_and_nothing_more() -> None:
    tf = terraform()
    sa = ref(
        one(one(scheduler_job(tf), "http_target"), "oauth_token")["service_account_email"],
        "google_service_account",
        "email",
    )
    job = f"${{{JOB}.{export_job(tf)}.name}}"
    on_jobs = list(grants(tf, "google_cloud_run_v2_job_iam_member"))
    # run.invoker on a job holds run.jobs.run (execute it as configured); no run.developer
    # (overrides), no actAs on the job's account: executing needs neither.
    assert [(g["name"], g["role"], g["member"]) for g in on_jobs if g["name"] == job] == [
        (job, "roles/run.invoker", f"${{google_service_account.{sa}.member}}")
    ]
    held = [g for g in on_jobs if g["member"] in members_of(sa)]
    assert [g["name"] for g in held] == [job], "run.invoker on this job only"
    assert not tf.of_type("google_cloud_run_v2_job_iam_binding")
    assert not tf.of_type("google_cloud_run_v2_job_iam_policy")
    for grant in grants(tf, "google_project_iam_member"):
        assert grant["member"] not in members_of(sa), f"{sa} holds {grant['role']} project-wide"
        assert "roles/run." not in str(grant), grant
    for grant in grants(tf, "google_service_account_iam_member"):
        if grant["member"] in members_of(sa):
            assert grant["service_account_id"] != (
                f"${{google_service_account.{exports_sa(tf)}.name}}"
            ), "running the job needs no actAs on its account"
    # The job waits for the grant before Scheduler can call it.
    depends = scheduler_job(tf)["depends_on"]
    held_names = [
        name
        for name, body in tf.of_type("google_cloud_run_v2_job_iam_member").items()
        if body["name"] == job
    ]
    assert f"${{google_cloud_run_v2_job_iam_member.{held_names[0]}}}" in str(depends)
