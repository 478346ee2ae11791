# Growth exports (ADR 0020): pseudonymised Parquet for the growth team, in a bucket of its own
# (never the files bucket of data-subject exports), read through BigQuery.
#
# focus-growth-exports writes it, alone: a Cloud Run job (`focus exports run --compact`, below)
# that Cloud Scheduler starts daily. A run takes minutes, far beyond focus-api's 60 s requests.
# It stages a run under growth/_staging/<run>/, copies it into
# growth/v1/<dataset>/date=YYYY-MM-DD/ and writes its manifest under growth/v1/_manifests/
# last. The growth team reads the `growth` dataset only: one external table per dataset of the
# export contract (domain/growth/contract.py) and a `<dataset>_latest` view per mutable one.
# The team holds no role on any bucket.

locals {
  # The layout's version: domain/growth/contract.py CONTRACT_VERSION.
  growth_prefix = "growth/v1"

  # Every dataset of the contract -> how its `_latest` view keeps one version per record: the
  # columns naming a record (`latest_by`, empty: no view) and whether a version may delete it.
  # A dataset added to the contract needs its entry here (tests/unit/test_terraform_growth.py).
  growth_datasets = {
    users          = { partition = "date", latest_by = ["pseudonym"], deletes = false }
    devices        = { partition = "date", latest_by = ["pseudonym", "record"], deletes = true }
    focus_sessions = { partition = "date", latest_by = ["pseudonym", "record"], deletes = true }
    schedules      = { partition = "date", latest_by = ["pseudonym", "record"], deletes = true }
    daily_usage    = { partition = "date", latest_by = ["pseudonym", "record", "date"], deletes = false }
    # One row per event, never a new version of one: nothing to keep the latest of.
    events = { partition = "date", latest_by = [], deletes = false }
  }

  growth_views = { for name, dataset in local.growth_datasets : name => dataset if length(dataset.latest_by) > 0 }
}

resource "google_project_service" "growth" {
  for_each = toset([
    "bigquery.googleapis.com",
    "bigqueryconnection.googleapis.com",
  ])

  service            = each.value
  disable_on_destroy = false
}

# --- the bucket ------------------------------------------------------------------------------

resource "google_storage_bucket" "growth" {
  #checkov:skip=CKV_GCP_62:Two identities touch it, the focus-growth-exports job writing and BigQuery's connection reading; people read through BigQuery, whose queries Cloud Audit Logs record.
  #checkov:skip=CKV_GCP_78:No versioning: compaction rewrites partitions without forgotten pseudonyms (ADR 0020); a noncurrent version would keep them.
  name                        = "${var.project_id}-focus-growth"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = false
  }

  # Files of runs being staged: a run takes minutes, so what is a week old there was left by a
  # run that stopped. Published files stay (compaction rewrites them, ADR 0020).
  lifecycle_rule {
    condition {
      age            = 7
      matches_prefix = ["growth/_staging/"]
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.enabled]
}

# The export job (focus-exports, below) stages, copies, compacts and deletes objects: this
# bucket only, nothing project-wide. focus-api holds nothing here.
resource "google_storage_bucket_iam_member" "exports_growth" {
  bucket = google_storage_bucket.growth.name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.exports.member
}

# --- BigQuery --------------------------------------------------------------------------------

# How BigQuery reads the files. Plain external tables read them with the querying user's own
# credentials: every analyst would need objectViewer on the bucket, and so could also read the
# staging area, the manifests and every file outside the tables. A Cloud resource connection
# reads them with a service account of its own instead (BigLake tables): that account alone
# holds objectViewer on this bucket, and people need only BigQuery roles on the dataset.
resource "google_bigquery_connection" "growth" {
  connection_id = "focus-growth"
  location      = var.region
  friendly_name = "focus-growth"
  description   = "Reads the growth exports' Parquet files for the growth dataset's tables."

  cloud_resource {}

  depends_on = [google_project_service.growth]
}

resource "google_storage_bucket_iam_member" "growth_connection" {
  bucket = google_storage_bucket.growth.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_bigquery_connection.growth.cloud_resource[0].service_account_id}"
}

resource "google_bigquery_dataset" "growth" {
  #checkov:skip=CKV_GCP_81:Google-managed encryption: the dataset holds table definitions and views, no data; the files are pseudonymised (ADR 0020).
  dataset_id    = "growth"
  friendly_name = "Growth exports"
  description   = "Pseudonymised exports for the growth team (docs/exports.md): one table per dataset of the export contract, a _latest view per mutable one."
  location      = var.region # the bucket's: BigQuery reads external data in its own location
  # No default_table_expiration_ms: the tables are definitions over the files, kept as long as
  # they are. Labels: the provider's default_labels (main.tf), as on every resource.

  delete_contents_on_destroy = false

  depends_on = [google_project_service.growth]
}

# One BigLake table per dataset: every Parquet file under growth/v1/<dataset>/, the partition
# column (`date`) read from the path, the schema from the files (the contract's: exports/).
# BigQuery refuses Hive keys that are also columns of the files: the files must leave the
# partition column out (DuckDB's hive_partitioning reads it back from the path all the same).
resource "google_bigquery_table" "growth" {
  #checkov:skip=CKV_GCP_80:Google-managed encryption: an external table stores no data; the files are in the growth bucket.
  #checkov:skip=CKV_GCP_121:An external table holds no data, only its definition here: replacing it (a new column autodetected) must not need a manual step.
  for_each = local.growth_datasets

  dataset_id          = google_bigquery_dataset.growth.dataset_id
  table_id            = each.key
  description         = "${local.growth_prefix}/${each.key}: the export contract's ${each.key}, one row per exported version (docs/exports.md)."
  deletion_protection = false

  external_data_configuration {
    source_format = "PARQUET"
    autodetect    = true
    source_uris   = ["gs://${google_storage_bucket.growth.name}/${local.growth_prefix}/${each.key}/*"]
    connection_id = google_bigquery_connection.growth.name

    hive_partitioning_options {
      mode                     = "CUSTOM"
      source_uri_prefix        = "gs://${google_storage_bucket.growth.name}/${local.growth_prefix}/${each.key}/{${each.value.partition}:DATE}"
      require_partition_filter = false
    }

    # list<string> columns (platforms, days) as ARRAY<STRING>, not records of `element`.
    parquet_options {
      enable_list_inference = true
    }
  }

  depends_on = [google_storage_bucket_iam_member.growth_connection]
}

# Each record's latest version (its largest `change`), without those whose latest deletes them.
resource "google_bigquery_table" "growth_latest" {
  #checkov:skip=CKV_GCP_80:Google-managed encryption: a view stores no data.
  #checkov:skip=CKV_GCP_121:A view holds no data, only its query here.
  for_each = local.growth_views

  dataset_id          = google_bigquery_dataset.growth.dataset_id
  table_id            = "${each.key}_latest"
  description         = "${each.key}: each record's latest version (largest change)${each.value.deletes ? ", deleted records left out" : ""}."
  deletion_protection = false

  view {
    use_legacy_sql = false
    query          = <<-SQL
      SELECT * EXCEPT (rn)
      FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY ${join(", ", each.value.latest_by)} ORDER BY change DESC) AS rn
        FROM `${google_bigquery_table.growth[each.key].project}.${google_bigquery_table.growth[each.key].dataset_id}.${google_bigquery_table.growth[each.key].table_id}`
      )
      WHERE rn = 1${each.value.deletes ? " AND NOT deleted" : ""}
    SQL
  }
}

# --- the growth team -------------------------------------------------------------------------

# Reads the growth dataset's tables and views, nothing else: no role on any bucket (the
# connection reads the files), none on the files bucket of data-subject exports.
resource "google_bigquery_dataset_iam_member" "growth_team" {
  count      = var.growth_team_group == null ? 0 : 1
  dataset_id = google_bigquery_dataset.growth.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = var.growth_team_group
}

# Running a query is a BigQuery job, created in a project: jobs have no resource-level IAM.
# jobUser lets the team run jobs (billed here); what a job reads is the dataset's grant above.
resource "google_project_iam_member" "growth_team_jobs" {
  count   = var.growth_team_group == null ? 0 : 1
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = var.growth_team_group
}

# --- the daily run ---------------------------------------------------------------------------

# `focus exports run --compact`: every dataset from its watermark, then erased people's rows
# removed from published files. A Cloud Run job, not a task on focus-api: a run takes minutes
# and focus-api's requests end after 60 s. Re-running is harmless: a run exports the window
# after the last manifest, and an interrupted one resumes its window (hence one retry).
# By hand: gcloud run jobs execute focus-growth-exports --region=REGION --wait
resource "google_cloud_run_v2_job" "growth_exports" {
  name                = "focus-growth-exports"
  location            = var.region
  deletion_protection = true

  template {
    task_count = 1

    template {
      service_account = google_service_account.exports.email
      max_retries     = 1
      timeout         = "3600s"

      volumes {
        name = local.cloud_sql_volume
        cloud_sql_instance {
          instances = [google_sql_database_instance.main.connection_name]
        }
      }

      containers {
        image   = var.image
        command = ["focus"]
        args    = ["exports", "run", "--compact"]

        # Parquet is written and compressed here, one staged file at a time, into /tmp, which
        # is memory on Cloud Run: room for both.
        resources {
          limits = {
            cpu    = "2"
            memory = "2Gi"
          }
        }

        # What every process of the app needs in production (run.tf), FOCUS_ENV=production
        # among them. FOCUS_FILES_BUCKET is only named (app/settings.py `check` wants it with
        # GCS files): this account holds no role on the files bucket of data-subject exports.
        dynamic "env" {
          for_each = local.common_env
          content {
            name  = env.key
            value = env.value
          }
        }

        env {
          name = "DATABASE_URL"
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.database_url.secret_id
              version = "latest"
            }
          }
        }

        env {
          name  = "FOCUS_FILES"
          value = "gcs"
        }

        # Where the exports go (the bucket above), and only from here.
        env {
          name  = "FOCUS_GROWTH_BUCKET"
          value = google_storage_bucket.growth.name
        }

        # One snapshot held for the run, and little else: a small pool, up to 4 connections,
        # within the + 10 that run.tf's connection budget leaves beside the services.
        env {
          name  = "FOCUS_DB_POOL_SIZE"
          value = "2"
        }

        # Like focus-relay: it sends no pushes (so no APNs key), serves no requests (nothing to
        # rate-limit, no Redis), takes no data-subject requests (no key naming their subjects).
        env {
          name  = "FOCUS_PUSH"
          value = "log"
        }

        env {
          name  = "FOCUS_RATE_LIMITS"
          value = "false"
        }

        env {
          name  = "FOCUS_PRIVACY_REQUESTS"
          value = "false"
        }

        volume_mounts {
          name       = local.cloud_sql_volume
          mount_path = local.cloud_sql_mount
        }
      }
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_secret_manager_secret_iam_member.database_url,
    google_project_iam_member.exports_sql_client,
    google_storage_bucket_iam_member.exports_growth,
  ]
}

# Cloud Scheduler starts the job through the Cloud Run Admin API (jobs.run) with an OAuth
# token of focus-invoker. roles/run.invoker on a job holds run.jobs.run, "execute jobs"
# (Google's Cloud Run IAM roles and "Execute jobs" pages): on this job only, nothing
# project-wide. No iam.serviceAccountUser on focus-exports: executing a job as it is
# configured needs no actAs; only creating or updating it does (the deployer), and overriding
# its configuration per execution needs run.jobs.runWithOverrides, which this does not grant.
resource "google_cloud_run_v2_job_iam_member" "growth_exports_invoker" {
  name     = google_cloud_run_v2_job.growth_exports.name
  location = google_cloud_run_v2_job.growth_exports.location
  role     = "roles/run.invoker"
  member   = google_service_account.invoker.member
}

# Every day at 03:00 UTC. jobs.run answers at once with the execution's long-running operation
# (it does not wait for the run), so the attempt deadline is the API call's; a failed call
# started nothing and is retried.
resource "google_cloud_scheduler_job" "growth_exports" {
  name        = "focus-growth-exports"
  description = "Run the Cloud Run job focus-growth-exports (focus exports run --compact) every day at 03:00 UTC"
  region      = var.region
  schedule    = "0 3 * * *"
  time_zone   = "Etc/UTC"

  attempt_deadline = "300s"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "10s"
    max_backoff_duration = "300s"
  }

  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/projects/${var.project_id}/locations/${var.region}/jobs/${google_cloud_run_v2_job.growth_exports.name}:run"

    # A Google API takes an OAuth access token (an OIDC token is for focus-api's own check).
    oauth_token {
      service_account_email = google_service_account.invoker.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_cloud_run_v2_job_iam_member.growth_exports_invoker,
  ]
}
