# Delayed jobs (ADR 0010): silent-push retries and delayed pushes, the hourly purge. Each task
# is an HTTP POST to {FOCUS_CLOUD_TASKS_TARGET_URL}/internal/tasks/{kind} with an OIDC token
# of focus-invoker; the app names tasks so duplicates are refused.

resource "google_cloud_tasks_queue" "jobs" {
  name     = var.tasks_queue # FOCUS_CLOUD_TASKS_QUEUE
  location = var.region      # FOCUS_CLOUD_TASKS_LOCATION

  rate_limits {
    max_dispatches_per_second = 500
    max_concurrent_dispatches = 1000
  }

  # Used when /internal/tasks answers other than 2xx (a handler raised: 503). Push delivery
  # retries with Retry-After are separate tasks the app schedules itself.
  retry_config {
    max_attempts  = 10
    min_backoff   = "10s"
    max_backoff   = "600s"
    max_doublings = 6
  }

  stackdriver_logging_config {
    sampling_ratio = 0.1
  }

  depends_on = [google_project_service.enabled]
}

resource "google_cloud_tasks_queue_iam_member" "api_enqueuer" {
  name     = google_cloud_tasks_queue.jobs.name
  location = google_cloud_tasks_queue.jobs.location
  role     = "roles/cloudtasks.enqueuer"
  member   = google_service_account.api.member
}
