output "api_url" {
  description = "focus-api's run.app URL: where Pub/Sub, Cloud Tasks and Scheduler call, and FOCUS_INTERNAL_AUDIENCE."
  value       = local.api_url
}

output "api_public_url" {
  description = "The URL the apps use (the custom domain when set)."
  value       = local.api_public_url
}

output "service_accounts" {
  description = "Service account emails, by workload."
  value = {
    api     = google_service_account.api.email
    relay   = google_service_account.relay.email
    invoker = google_service_account.invoker.email
    migrate = google_service_account.migrate.email
    console = google_service_account.console.email
  }
}

output "sql_connection_name" {
  description = "For DATABASE_URL: postgresql://USER:PASSWORD@/DB?host=/cloudsql/<this>"
  value       = google_sql_database_instance.main.connection_name
}

output "pubsub" {
  value = {
    topic                    = google_pubsub_topic.events.name
    dead_letter_topic        = google_pubsub_topic.events_dead.name
    notifications            = google_pubsub_subscription.notifications.name
    ai                       = google_pubsub_subscription.ai.name
    dead_letter_subscription = google_pubsub_subscription.dead_letters.name
  }
}

output "tasks_queue" {
  value = google_cloud_tasks_queue.jobs.id
}

output "secrets" {
  description = "Secrets whose versions are added out of band."
  value = {
    database_url = google_secret_manager_secret.database_url.id
    apns_key     = google_secret_manager_secret.apns_key.id
    # async+rediss://:AUTH@<redis.host>:<redis.port>/0?ssl_cert_reqs=required&ssl_ca_certs=/secrets/redis-ca/ca.pem
    rate_limit_storage  = google_secret_manager_secret.rate_limit_storage.id
    privacy_subject_key = google_secret_manager_secret.privacy_subject_key.id
    console_csrf_key    = google_secret_manager_secret.console_csrf_key.id
  }
}

output "redis" {
  description = "Memorystore of the rate limits: for focus-rate-limit-storage (AUTH: gcloud redis instances get-auth-string focus-limits)."
  value = {
    host = google_redis_instance.limits.host
    port = google_redis_instance.limits.port
  }
}

output "edge_address" {
  description = "The load balancer's address: point api_domain's A record here (null without api_domain)."
  value       = local.edge ? google_compute_global_address.api[0].address : null
}

output "console_address" {
  description = "The console's load balancer address: point console_domain's A record here (null without console_domain)."
  value       = local.console ? google_compute_global_address.console[0].address : null
}

output "console_iap_audience" {
  description = "FOCUS_IAP_AUDIENCE of focus-console: what IAP signs its assertions for (null without console_domain)."
  value       = local.console_iap_audience
}
