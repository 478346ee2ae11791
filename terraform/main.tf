# Providers, the project, the names every file shares, and the APIs the rest needs.

terraform {
  required_version = ">= 1.5" # check blocks

  required_providers {
    google = {
      source = "hashicorp/google"
      # 6.x; 6.41 is the first release this was written against that has
      # google_cloud_run_v2_worker_pool (the relay, run.tf) and the service's `urls`.
      version = "~> 6.41"
    }
  }
}

provider "google" {
  project        = var.project_id
  region         = var.region
  default_labels = local.labels
}

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  labels = merge(
    { app = "focus", environment = var.environment, "managed-by" = "terraform" },
    var.labels,
  )

  api_service_name = "focus-api"

  # The chicken and the egg: the API must know its own URL (FOCUS_INTERNAL_AUDIENCE, the
  # audience of Google's OIDC tokens; FOCUS_CLOUD_TASKS_TARGET_URL), and Pub/Sub, Cloud Tasks
  # and Scheduler must know it too, before the service exists. Cloud Run gives every service a
  # deterministic URL, https://SERVICE-PROJECT_NUMBER.REGION.run.app, so it is computed here
  # from the project number instead of read back from the service (check "api_url" in run.tf
  # fails the plan if Cloud Run ever serves it elsewhere). Google calls this URL directly;
  # a custom domain (var.api_domain) is only for the apps, so internal calls never depend on
  # DNS or a load balancer.
  api_url = "https://${local.api_service_name}-${data.google_project.this.number}.${var.region}.run.app"

  # What /internal/* checks as the token audience, and what every caller signs for.
  internal_audience = local.api_url

  api_public_url = var.api_domain == null ? local.api_url : "https://${var.api_domain}"

  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  # The APNs .p8 key, mounted from Secret Manager (run.tf) at FOCUS_APNS_KEY_FILE.
  apns_key_dir  = "/secrets/apns"
  apns_key_file = "apns-key.p8"

  # Prometheus metrics of the API (FOCUS_METRICS_PORT): not the serving port, so not public;
  # the managed-Prometheus sidecar scrapes it (ADR 0010).
  metrics_port = 9090

  # Memorystore's CA, mounted from Secret Manager (run.tf), named in FOCUS_RATE_LIMIT_STORAGE.
  redis_ca_dir  = "/secrets/redis-ca"
  redis_ca_file = "ca.pem"
}

resource "google_project_service" "enabled" {
  for_each = toset([
    "cloudresourcemanager.googleapis.com",
    "iam.googleapis.com",
    "run.googleapis.com",
    "sqladmin.googleapis.com",
    "pubsub.googleapis.com",
    "cloudtasks.googleapis.com",
    "cloudscheduler.googleapis.com",
    "secretmanager.googleapis.com",
    "firestore.googleapis.com",
    "fcm.googleapis.com",
    "monitoring.googleapis.com",
    "compute.googleapis.com", # the load balancer, Cloud Armor and the VPC (edge.tf, redis.tf)
    "redis.googleapis.com",
  ])

  service            = each.value
  disable_on_destroy = false
}
