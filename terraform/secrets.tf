# Secret Manager: the secrets exist here, their values never do (not in code, not in state).
# Add a version out of band before the first apply of run.tf (README):
#   gcloud secrets versions add focus-database-url --data-file=-   <<< 'postgresql://...'
#   gcloud secrets versions add focus-apns-key --data-file=AuthKey_XXXXXXXXXX.p8
#   gcloud secrets versions add focus-rate-limit-storage --data-file=-   <<< 'async+rediss://...'
#   openssl rand -base64 48 | gcloud secrets versions add focus-privacy-subject-key --data-file=-
#   openssl rand -base64 48 | gcloud secrets versions add focus-console-csrf-key --data-file=-

resource "google_secret_manager_secret" "database_url" {
  secret_id = "focus-database-url"

  # postgresql://focus:PASSWORD@/focus?host=/cloudsql/PROJECT:REGION:INSTANCE
  # (the Unix socket of the Cloud SQL connector that run.tf mounts at /cloudsql).
  annotations = { format = "DATABASE_URL through the Cloud SQL socket: postgresql://USER:PASSWORD@/DB?host=/cloudsql/CONNECTION_NAME" }

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret" "apns_key" {
  secret_id   = "focus-apns-key"
  annotations = { format = "The APNs token-auth key, AuthKey_<FOCUS_APNS_KEY_ID>.p8, as downloaded from Apple" }

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_iam_member" "database_url" {
  for_each = {
    api     = google_service_account.api.member
    relay   = google_service_account.relay.member
    migrate = google_service_account.migrate.member
    console = google_service_account.console.member
    exports = google_service_account.exports.member
  }

  secret_id = google_secret_manager_secret.database_url.id
  role      = "roles/secretmanager.secretAccessor"
  member    = each.value
}

resource "google_secret_manager_secret_iam_member" "apns_key_api" {
  secret_id = google_secret_manager_secret.apns_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.api.member
}

# The managed-Prometheus sidecar's scrape configuration (RunMonitoring), one per workload that
# serves FOCUS_METRICS_PORT (local.metrics_workloads, run.tf). Not a secret: Secret Manager is
# the only way the sidecar takes a file (it reads /etc/rungmp/config.yaml), so its value is in
# terraform. `metadata.name` becomes the series' `job` label; the workload's name is their
# `namespace` (prometheus_target), which the SLOs and alerts filter on.
resource "google_secret_manager_secret" "metrics_config" {
  for_each  = local.metrics_workloads
  secret_id = "${each.value.name}-run-monitoring"

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_version" "metrics_config" {
  for_each = local.metrics_workloads
  secret   = google_secret_manager_secret.metrics_config[each.key].id
  secret_data = yamlencode({
    apiVersion = "monitoring.googleapis.com/v1beta"
    kind       = "RunMonitoring"
    metadata   = { name = each.value.name }
    spec = {
      # The sidecar scrapes 0.0.0.0:PORT, i.e. this instance's loopback: the app container
      # and the sidecar share the instance's network, and the app serves its metrics on
      # 127.0.0.1 only (app/cli/common.py), which a connection to 0.0.0.0 reaches on Linux
      # (the gen2 execution environment, run.tf).
      endpoints    = [{ port = tostring(local.metrics_port), path = "/metrics", interval = "30s" }]
      targetLabels = { metadata = each.value.target_labels }
    }
  })
}

resource "google_secret_manager_secret_iam_member" "metrics_config" {
  for_each  = local.metrics_workloads
  secret_id = google_secret_manager_secret.metrics_config[each.key].id
  role      = "roles/secretmanager.secretAccessor"
  member    = each.value.member
}

# The configuration was focus-api's alone before the relay reported too.
moved {
  from = google_secret_manager_secret.metrics_config
  to   = google_secret_manager_secret.metrics_config["api"]
}

moved {
  from = google_secret_manager_secret_version.metrics_config
  to   = google_secret_manager_secret_version.metrics_config["api"]
}

moved {
  from = google_secret_manager_secret_iam_member.metrics_config_api
  to   = google_secret_manager_secret_iam_member.metrics_config["api"]
}

# Where focus-api counts rate limits: Memorystore (redis.tf), with its AUTH string, over TLS
# checked against the instance's CA (mounted from focus-redis-ca at local.redis_ca_file).
resource "google_secret_manager_secret" "rate_limit_storage" {
  secret_id   = "focus-rate-limit-storage"
  annotations = { format = "FOCUS_RATE_LIMIT_STORAGE: async+rediss://:AUTH_STRING@HOST:6378/0?ssl_cert_reqs=required&ssl_ca_certs=/secrets/redis-ca/ca.pem (gcloud redis instances get-auth-string focus-limits)" }

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_iam_member" "rate_limit_storage_api" {
  secret_id = google_secret_manager_secret.rate_limit_storage.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.api.member
}

# The key of the keyed hash naming data subjects in the privacy audit trail and its metrics.
# Never rotated once used: a new key would make old audit rows unfindable by subject.
resource "google_secret_manager_secret" "privacy_subject_key" {
  secret_id   = "focus-privacy-subject-key"
  annotations = { format = "48 random bytes, base64 (openssl rand -base64 48)" }

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_iam_member" "privacy_subject_key_api" {
  secret_id = google_secret_manager_secret.privacy_subject_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.api.member
}

resource "google_secret_manager_secret_iam_member" "privacy_subject_key_console" {
  secret_id = google_secret_manager_secret.privacy_subject_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.console.member
}

# The key of the compliance console's CSRF tokens (FOCUS_CONSOLE_CSRF_KEY, 32 characters or
# more). Rotating it only invalidates the forms open at that moment.
resource "google_secret_manager_secret" "console_csrf_key" {
  secret_id   = "focus-console-csrf-key"
  annotations = { format = "48 random bytes, base64 (openssl rand -base64 48)" }

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_iam_member" "console_csrf_key" {
  secret_id = google_secret_manager_secret.console_csrf_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.console.member
}

# Memorystore's server CA certificates. Not a secret: Secret Manager is how Cloud Run mounts a
# file, so this one's value is in terraform, and follows the instance's CA rotations.
resource "google_secret_manager_secret" "redis_ca" {
  secret_id = "focus-redis-ca"

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_version" "redis_ca" {
  secret      = google_secret_manager_secret.redis_ca.id
  secret_data = join("\n", google_redis_instance.limits.server_ca_certs[*].cert)
}

resource "google_secret_manager_secret_iam_member" "redis_ca_api" {
  secret_id = google_secret_manager_secret.redis_ca.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.api.member
}
