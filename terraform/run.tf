# Cloud Run: focus-api (the public API and the /internal/* endpoints), focus-relay (the
# outbox relay) and focus-migrate (schema migrations, run before a release). The growth
# exports' job, focus-growth-exports, is in growth.tf.

locals {
  cloud_sql_volume = "cloudsql"
  cloud_sql_mount  = "/cloudsql"

  relay_pool_name = "focus-relay"

  # Every long-running workload serves its Prometheus metrics on FOCUS_METRICS_PORT (never
  # its serving port) and runs the managed-Prometheus sidecar beside it, which scrapes that
  # port on the instance's loopback and writes to Managed Service for Prometheus as the
  # workload's own account (roles/monitoring.metricWriter, iam.tf). Its configuration per
  # workload is a secret (secrets.tf). `target_labels`: the sidecar's metadata labels; a
  # worker pool has no service, so the relay's series carry only their revision.
  # Jobs (focus-migrate, focus-growth-exports) end within minutes: they serve none.
  metrics_workloads = {
    api = {
      name          = local.api_service_name
      member        = google_service_account.api.member
      target_labels = ["service", "revision"]
    }
    relay = {
      name          = local.relay_pool_name
      member        = google_service_account.relay.member
      target_labels = ["revision"]
    }
  }
  metrics_volume = "run-monitoring"
  metrics_mount  = "/etc/rungmp" # where the sidecar reads config.yaml

  # Settings every process of the app needs in production (app/settings.py `check`).
  common_env = {
    FOCUS_ENV                 = "production"
    GOOGLE_CLOUD_PROJECT      = var.project_id
    FOCUS_FIREBASE_PROJECT_ID = var.project_id
    # /internal/* accepts only Google-signed OIDC tokens for this audience, signed as this
    # account (Pub/Sub push, Cloud Tasks and Scheduler all sign as focus-invoker).
    FOCUS_INTERNAL_AUDIENCE = local.internal_audience
    FOCUS_INTERNAL_INVOKER  = google_service_account.invoker.email
    # Delayed jobs go to Cloud Tasks, which calls this service back.
    FOCUS_CLOUD_TASKS_LOCATION   = google_cloud_tasks_queue.jobs.location
    FOCUS_CLOUD_TASKS_QUEUE      = google_cloud_tasks_queue.jobs.name
    FOCUS_CLOUD_TASKS_TARGET_URL = local.api_url
    # While the Firebase app's Firestore holds data, each entity's migration phase decides
    # where it is read and written; the relay also repairs pending Firestore mirrors.
    FOCUS_LEGACY_FIRESTORE = tostring(var.legacy_firestore)
    # Export archives (files.tf); links to them are V4 signed URLs.
    FOCUS_FILES_BUCKET = google_storage_bucket.files.name
    # Spans to Cloud Trace (app/tracing.py): the same share of traces in every process,
    # decided by the trace id, so a request and its fan-out are kept whole or not at all.
    FOCUS_TRACING            = "cloud"
    FOCUS_TRACE_SAMPLE_RATIO = tostring(var.trace_sample_ratio)
  }
}

resource "google_cloud_run_v2_service" "api" {
  name     = local.api_service_name
  location = var.region
  # The apps call it from anywhere; they authenticate with Firebase ID tokens, not Google IAM,
  # so it takes unauthenticated calls (allUsers below) and the app checks every token. With a
  # custom domain the apps come through the load balancer and Cloud Armor (edge.tf), and the
  # run.app URL takes only this project's Pub/Sub, Cloud Tasks and Scheduler calls.
  ingress             = local.edge ? "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" : "INGRESS_TRAFFIC_ALL"
  deletion_protection = true

  template {
    service_account                  = google_service_account.api.email
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"
    max_instance_request_concurrency = var.api_concurrency
    timeout                          = "60s" # within the push subscription's ack deadline

    scaling {
      min_instance_count = var.api_min_instances
      max_instance_count = var.api_max_instances
    }

    # Direct VPC egress to Memorystore (redis.tf); everything else leaves as before.
    vpc_access {
      egress = "PRIVATE_RANGES_ONLY"
      network_interfaces {
        network    = google_compute_network.main.id
        subnetwork = google_compute_subnetwork.run.id
      }
    }

    volumes {
      name = local.cloud_sql_volume
      cloud_sql_instance {
        instances = [google_sql_database_instance.main.connection_name]
      }
    }

    volumes {
      name = "apns-key"
      secret {
        secret = google_secret_manager_secret.apns_key.secret_id
        items {
          version = "latest"
          path    = local.apns_key_file
        }
      }
    }

    volumes {
      name = "redis-ca"
      secret {
        secret = google_secret_manager_secret.redis_ca.secret_id
        items {
          version = "latest"
          path    = local.redis_ca_file
        }
      }
    }

    volumes {
      name = local.metrics_volume
      secret {
        secret = google_secret_manager_secret.metrics_config["api"].secret_id
        items {
          version = "latest"
          path    = "config.yaml"
        }
      }
    }

    containers {
      name    = "api"
      image   = var.image
      command = ["focus"]
      # The schema is migrated by focus-migrate before a release, never by serving instances.
      args = ["serve", "--host", "0.0.0.0", "--port", "8080", "--no-migrate"]

      ports {
        name           = "http1"
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = var.api_cpu
          memory = var.api_memory
        }
        cpu_idle          = true # request-based billing: nothing runs between requests here
        startup_cpu_boost = true
      }

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
        name  = "FOCUS_RELAY_IN_PROCESS" # focus-relay drains the outbox
        value = "false"
      }

      env {
        name  = "FOCUS_DB_POOL_SIZE"
        value = tostring(var.db_pool_size)
      }

      env {
        name  = "FOCUS_METRICS_PORT"
        value = tostring(local.metrics_port)
      }

      env {
        name  = "FOCUS_APNS_KEY_ID"
        value = var.apns_key_id
      }

      env {
        name  = "FOCUS_APNS_TEAM_ID"
        value = var.apns_team_id
      }

      env {
        name  = "FOCUS_APNS_TOPIC"
        value = var.apns_topic
      }

      env {
        name  = "FOCUS_APNS_KEY_FILE"
        value = "${local.apns_key_dir}/${local.apns_key_file}"
      }

      # The key of the hash that names data subjects in the privacy audit trail.
      env {
        name = "FOCUS_PRIVACY_SUBJECT_KEY"
        value_source {
          secret_key_ref {
            secret  = google_secret_manager_secret.privacy_subject_key.secret_id
            version = "latest"
          }
        }
      }

      # Rate limits counted in Memorystore, shared by every instance (docs/adr/0013).
      env {
        name = "FOCUS_RATE_LIMIT_STORAGE"
        value_source {
          secret_key_ref {
            secret  = google_secret_manager_secret.rate_limit_storage.secret_id
            version = "latest"
          }
        }
      }

      env {
        name  = "FOCUS_CLIENT_IP_PROXY_HOPS"
        value = tostring(local.client_ip_proxy_hops)
      }

      # App Check on changes, per platform: monitor until focus_app_check_total shows the
      # installed apps send valid tokens, then enforce.
      env {
        name  = "FOCUS_APP_CHECK_IOS"
        value = var.app_check_ios
      }

      env {
        name  = "FOCUS_APP_CHECK_ANDROID"
        value = var.app_check_android
      }

      env {
        name  = "FOCUS_APP_CHECK_PROJECT_NUMBER"
        value = data.google_project.this.number
      }

      # AI features (ADR 0021, ai.tf): the hosted provider, called as this service's account,
      # within a daily token budget; the local provider answers whenever it cannot.
      env {
        name  = "FOCUS_AI_PROVIDER"
        value = var.ai_provider
      }

      env {
        name  = "FOCUS_AI_MODEL"
        value = var.ai_model
      }

      env {
        name  = "FOCUS_AI_LOCATION"
        value = var.ai_location
      }

      env {
        name  = "FOCUS_AI_DAILY_TOKENS_SOFT"
        value = tostring(var.ai_daily_tokens_soft)
      }

      env {
        name  = "FOCUS_AI_DAILY_TOKENS_HARD"
        value = tostring(var.ai_daily_tokens_hard)
      }

      volume_mounts {
        name       = local.cloud_sql_volume
        mount_path = local.cloud_sql_mount
      }

      volume_mounts {
        name       = "apns-key"
        mount_path = local.apns_key_dir
      }

      volume_mounts {
        name       = "redis-ca"
        mount_path = local.redis_ca_dir
      }

      startup_probe {
        http_get {
          path = "/healthz"
          port = 8080
        }
        period_seconds    = 2
        timeout_seconds   = 2
        failure_threshold = 30
      }

      liveness_probe {
        http_get {
          path = "/healthz"
          port = 8080
        }
        period_seconds    = 15
        timeout_seconds   = 5
        failure_threshold = 3
      }
    }

    # Scrapes FOCUS_METRICS_PORT on localhost and writes to Managed Service for Prometheus.
    containers {
      name       = "metrics"
      image      = var.metrics_sidecar_image
      depends_on = ["api"]

      resources {
        limits = {
          cpu    = "1"
          memory = "256Mi"
        }
        cpu_idle = true
      }

      volume_mounts {
        name       = local.metrics_volume
        mount_path = local.metrics_mount
      }
    }
  }

  lifecycle {
    precondition {
      condition = (
        var.api_max_instances * var.db_pool_size * 2 + var.relay_instances * 2 * 2 + 10
        <= var.sql_max_connections
      )
      error_message = "focus-api at api_max_instances could open more connections than sql_max_connections allows (each process opens up to 2 x FOCUS_DB_POOL_SIZE)."
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_secret_manager_secret_iam_member.database_url,
    google_secret_manager_secret_iam_member.apns_key_api,
    google_secret_manager_secret_iam_member.metrics_config["api"],
    google_secret_manager_secret_version.metrics_config["api"],
    google_secret_manager_secret_iam_member.rate_limit_storage_api,
    google_secret_manager_secret_iam_member.redis_ca_api,
    google_secret_manager_secret_version.redis_ca,
    google_project_iam_member.api,
  ]
}

check "api_url" {
  assert {
    condition     = contains(google_cloud_run_v2_service.api.urls, local.api_url)
    error_message = "focus-api is not served at ${local.api_url}, the URL Pub/Sub, Cloud Tasks and Scheduler call and FOCUS_INTERNAL_AUDIENCE names."
  }
}

# The public API (see ingress above). /internal/* checks Google's OIDC token itself
# (identity/google_oidc.py): audience FOCUS_INTERNAL_AUDIENCE, email FOCUS_INTERNAL_INVOKER.
resource "google_cloud_run_v2_service_iam_member" "api_public" {
  #checkov:skip=CKV_GCP_102:The mobile API is public by design; clients authenticate with Firebase ID tokens checked by the app, and /internal/* checks Google OIDC tokens itself.
  name     = google_cloud_run_v2_service.api.name
  location = google_cloud_run_v2_service.api.location
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# What Pub/Sub, Cloud Tasks and Scheduler sign as may invoke the API, whatever its public
# access becomes (e.g. the apps moved behind a load balancer with IAM on).
resource "google_cloud_run_v2_service_iam_member" "api_invoker" {
  name     = google_cloud_run_v2_service.api.name
  location = google_cloud_run_v2_service.api.location
  role     = "roles/run.invoker"
  member   = google_service_account.invoker.member
}

# The outbox relay: `focus events relay` runs until SIGTERM and listens on no port, which a
# Cloud Run service requires, so it is a worker pool: no URL and no ingress at all, CPU always
# allocated, a fixed number of instances (launch stage BETA in provider 6.x).
resource "google_cloud_run_v2_worker_pool" "relay" {
  name                = local.relay_pool_name
  location            = var.region
  launch_stage        = "BETA"
  deletion_protection = true

  scaling {
    manual_instance_count = var.relay_instances
  }

  template {
    service_account = google_service_account.relay.email

    volumes {
      name = local.cloud_sql_volume
      cloud_sql_instance {
        instances = [google_sql_database_instance.main.connection_name]
      }
    }

    volumes {
      name = local.metrics_volume
      secret {
        secret = google_secret_manager_secret.metrics_config["relay"].secret_id
        items {
          version = "latest"
          path    = "config.yaml"
        }
      }
    }

    containers {
      name    = "relay"
      image   = var.image
      command = ["focus"]
      args    = ["events", "relay"]

      resources {
        limits = {
          cpu    = "1"
          memory = "512Mi"
        }
      }

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
        name  = "FOCUS_EVENTS"
        value = "pubsub"
      }

      env {
        name  = "FOCUS_PUBSUB_TOPIC"
        value = google_pubsub_topic.events.name
      }

      # The relay only publishes: consumers (and so every push) run on focus-api. With the log
      # transport it needs no APNs key, so it gets no access to that secret.
      env {
        name  = "FOCUS_PUSH"
        value = "log"
      }

      env {
        name  = "FOCUS_DB_POOL_SIZE"
        value = "2"
      }

      # The relay serves no requests: nothing to limit, so no Redis to reach.
      env {
        name  = "FOCUS_RATE_LIMITS"
        value = "false"
      }

      # Nor data-subject requests: no key naming their subjects.
      env {
        name  = "FOCUS_PRIVACY_REQUESTS"
        value = "false"
      }

      # focus_outbox_lag_seconds and the relay's batches, and the Firestore mirrors' backlog
      # (alerts.tf): only this process measures them.
      env {
        name  = "FOCUS_METRICS_PORT"
        value = tostring(local.metrics_port)
      }

      volume_mounts {
        name       = local.cloud_sql_volume
        mount_path = local.cloud_sql_mount
      }
    }

    # As on focus-api: scrapes FOCUS_METRICS_PORT on localhost for Managed Prometheus.
    containers {
      name       = "metrics"
      image      = var.metrics_sidecar_image
      depends_on = ["relay"]

      resources {
        limits = {
          cpu    = "1"
          memory = "256Mi"
        }
      }

      volume_mounts {
        name       = local.metrics_volume
        mount_path = local.metrics_mount
      }
    }
  }

  lifecycle {
    ignore_changes = [launch_stage]
  }

  depends_on = [
    google_project_service.enabled,
    google_secret_manager_secret_iam_member.database_url,
    google_pubsub_topic_iam_member.relay_publisher,
    google_project_iam_member.relay_sql_client,
    google_project_iam_member.relay_metric_writer,
    google_secret_manager_secret_iam_member.metrics_config["relay"],
    google_secret_manager_secret_version.metrics_config["relay"],
  ]
}

# `gcloud run jobs execute focus-migrate --region REGION --wait` before a new image serves.
resource "google_cloud_run_v2_job" "migrate" {
  name                = "focus-migrate"
  location            = var.region
  deletion_protection = true

  template {
    task_count = 1

    template {
      service_account = google_service_account.migrate.email
      max_retries     = 0
      timeout         = "1800s"

      volumes {
        name = local.cloud_sql_volume
        cloud_sql_instance {
          instances = [google_sql_database_instance.main.connection_name]
        }
      }

      containers {
        image   = var.image
        command = ["focus"]
        args    = ["db", "upgrade"]

        env {
          name  = "FOCUS_ENV"
          value = "production"
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
    google_project_iam_member.migrate_sql_client,
  ]
}
