# The hourly purge (jobs/housekeeping.py): published outbox rows, processed events, expired
# idempotency keys. The task also schedules its next run through Cloud Tasks; this job is the
# net that starts the chain and restarts it if it ever breaks. Two runs in one hour are
# harmless: the purge is idempotent.

resource "google_cloud_scheduler_job" "maintenance_purge" {
  name        = "focus-maintenance-purge"
  description = "POST /internal/tasks/maintenance.purge every hour"
  region      = var.region
  schedule    = "0 * * * *"
  time_zone   = "Etc/UTC"

  attempt_deadline = "300s"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "10s"
    max_backoff_duration = "300s"
  }

  http_target {
    http_method = "POST"
    uri         = "${local.api_url}/internal/tasks/maintenance.purge"
    body        = base64encode("{}")
    headers     = { "Content-Type" = "application/json" }

    oidc_token {
      service_account_email = google_service_account.invoker.email
      audience              = local.internal_audience
    }
  }

  depends_on = [google_project_service.enabled]
}

# The hourly watch over data-subject requests (privacy/watch.py): the statutory clock's metrics
# and the local archive expiry. Like the purge, it also chains itself through Cloud Tasks.
resource "google_cloud_scheduler_job" "privacy_watch" {
  name        = "focus-privacy-watch"
  description = "POST /internal/tasks/privacy.watch every hour"
  region      = var.region
  schedule    = "30 * * * *"
  time_zone   = "Etc/UTC"

  attempt_deadline = "300s"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "10s"
    max_backoff_duration = "300s"
  }

  http_target {
    http_method = "POST"
    uri         = "${local.api_url}/internal/tasks/privacy.watch"
    body        = base64encode("{}")
    headers     = { "Content-Type" = "application/json" }

    oidc_token {
      service_account_email = google_service_account.invoker.email
      audience              = local.internal_audience
    }
  }

  depends_on = [google_project_service.enabled]
}
