# The compliance console and the internal staff API (ADR 0019): a second deployment of the
# backend image, focus-console, with FOCUS_STAFF_API=true, reachable only through its own
# global external Application Load Balancer with Identity-Aware Proxy on the backend service.
# Only var.compliance_staff_group passes IAP; the app then checks IAP's signed assertion
# (identity/iap.py: audience FOCUS_IAP_AUDIENCE) and looks the caller up among staff_members.
#
# It serves no mobile traffic: focus-api's service, ingress, invokers and load balancer
# (run.tf, edge.tf) are unchanged, and focus-api never serves the staff API (production's
# default). The service and its load balancer exist only with var.console_domain; its
# account, secret and grants always do (iam.tf, secrets.tf, files.tf).
#
# The chicken and the egg again: the app needs the backend service's id (FOCUS_IAP_AUDIENCE)
# and the backend service needs the serverless NEG, so the NEG names the service by its
# (fixed) name rather than by a reference to it: the NEG may exist before the service does.

locals {
  console              = var.console_domain != null
  console_service_name = "focus-console"
  # What IAP signs its assertions for: /projects/PROJECT_NUMBER/global/backendServices/ID.
  console_iap_audience = local.console ? "/projects/${data.google_project.this.number}/global/backendServices/${google_compute_backend_service.console[0].generated_id}" : null
  iap_service_agent    = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-iap.iam.gserviceaccount.com"
}

resource "google_project_service" "iap" {
  count              = local.console ? 1 : 0
  service            = "iap.googleapis.com"
  disable_on_destroy = false
}

resource "google_cloud_run_v2_service" "console" {
  count    = local.console ? 1 : 0
  name     = local.console_service_name
  location = var.region
  # Only the load balancer (and so IAP) reaches it: the run.app URL takes nothing from the
  # internet, and no one holds run.invoker but IAP's service agent (below).
  ingress             = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
  deletion_protection = true

  template {
    service_account                  = google_service_account.console.email
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"
    max_instance_request_concurrency = 20
    timeout                          = "60s"

    scaling {
      min_instance_count = 0 # a handful of staff: a cold start now and then is fine
      max_instance_count = var.console_max_instances
    }

    volumes {
      name = local.cloud_sql_volume
      cloud_sql_instance {
        instances = [google_sql_database_instance.main.connection_name]
      }
    }

    containers {
      name    = "console"
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
          cpu    = "1"
          memory = "1Gi" # export archives are streamed, but the console renders audit trails
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      # Everything the API needs: the database, Cloud Tasks (privacy.run tasks go to
      # focus-api, signed as focus-invoker), the files bucket, Firebase, the legacy Firestore.
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
        name  = "FOCUS_STAFF_API"
        value = "true"
      }

      env {
        name  = "FOCUS_STAFF_AUTH"
        value = "iap"
      }

      env {
        name  = "FOCUS_IAP_AUDIENCE"
        value = local.console_iap_audience
      }

      env {
        name = "FOCUS_CONSOLE_CSRF_KEY"
        value_source {
          secret_key_ref {
            secret  = google_secret_manager_secret.console_csrf_key.secret_id
            version = "latest"
          }
        }
      }

      env {
        name = "FOCUS_PRIVACY_SUBJECT_KEY"
        value_source {
          secret_key_ref {
            secret  = google_secret_manager_secret.privacy_subject_key.secret_id
            version = "latest"
          }
        }
      }

      env {
        name  = "FOCUS_RELAY_IN_PROCESS" # focus-relay drains the outbox
        value = "false"
      }

      # No app traffic: nothing to limit, so no Redis (and no VPC egress) to reach.
      env {
        name  = "FOCUS_RATE_LIMITS"
        value = "false"
      }

      # Consumers, and so every push, run on focus-api: no APNs key here.
      env {
        name  = "FOCUS_PUSH"
        value = "log"
      }

      env {
        name  = "FOCUS_DB_POOL_SIZE"
        value = tostring(var.console_db_pool_size)
      }

      env {
        name  = "FOCUS_CLIENT_IP_PROXY_HOPS" # always behind the load balancer
        value = "2"
      }

      volume_mounts {
        name       = local.cloud_sql_volume
        mount_path = local.cloud_sql_mount
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
  }

  lifecycle {
    precondition {
      condition = (
        var.api_max_instances * var.db_pool_size * 2 + var.relay_instances * 2 * 2
        + var.console_max_instances * var.console_db_pool_size * 2 + 10
        <= var.sql_max_connections
      )
      error_message = "focus-api, focus-relay and focus-console at their most instances could open more connections than sql_max_connections allows."
    }
    precondition {
      condition     = var.compliance_staff_group != null
      error_message = "console_domain needs compliance_staff_group: who IAP lets through."
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_secret_manager_secret_iam_member.database_url,
    google_secret_manager_secret_iam_member.privacy_subject_key_console,
    google_secret_manager_secret_iam_member.console_csrf_key,
    google_project_iam_member.console,
  ]
}

# IAP calls the service with its own identity; nobody else may (no allUsers here).
resource "google_cloud_run_v2_service_iam_member" "console_iap" {
  count    = local.console ? 1 : 0
  name     = google_cloud_run_v2_service.console[0].name
  location = google_cloud_run_v2_service.console[0].location
  role     = "roles/run.invoker"
  member   = local.iap_service_agent

  # The agent exists once IAP is on for a resource of the project.
  depends_on = [google_compute_backend_service.console]
}

# --- the load balancer and IAP -----------------------------------------------------------

resource "google_compute_region_network_endpoint_group" "console" {
  count                 = local.console ? 1 : 0
  name                  = local.console_service_name
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = local.console_service_name # by name: see the top of this file
  }
}

resource "google_compute_backend_service" "console" {
  count                 = local.console ? 1 : 0
  name                  = local.console_service_name
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"

  backend {
    group = google_compute_region_network_endpoint_group.console[0].id
  }

  # A Google-managed OAuth client: staff sign in with their Google accounts of the organisation.
  iap {
    enabled = true
  }

  log_config {
    enable      = true
    sample_rate = 1.0 # a few staff, every request worth keeping
  }

  depends_on = [google_project_service.iap]
}

# Only the compliance staff's group passes IAP; roles within the console are the app's.
resource "google_iap_web_backend_service_iam_member" "console_staff" {
  count               = local.console ? 1 : 0
  project             = var.project_id
  web_backend_service = google_compute_backend_service.console[0].name
  role                = "roles/iap.httpsResourceAccessor"
  member              = var.compliance_staff_group
}

resource "google_compute_url_map" "console" {
  count           = local.console ? 1 : 0
  name            = local.console_service_name
  default_service = google_compute_backend_service.console[0].id
}

resource "google_compute_managed_ssl_certificate" "console" {
  count = local.console ? 1 : 0
  name  = local.console_service_name

  managed {
    domains = [var.console_domain]
  }
}

resource "google_compute_ssl_policy" "console" {
  count           = local.console ? 1 : 0
  name            = local.console_service_name
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_target_https_proxy" "console" {
  count            = local.console ? 1 : 0
  name             = local.console_service_name
  url_map          = google_compute_url_map.console[0].id
  ssl_certificates = [google_compute_managed_ssl_certificate.console[0].id]
  ssl_policy       = google_compute_ssl_policy.console[0].id
}

resource "google_compute_global_address" "console" {
  count = local.console ? 1 : 0
  name  = local.console_service_name
}

resource "google_compute_global_forwarding_rule" "console" {
  count                 = local.console ? 1 : 0
  name                  = "${local.console_service_name}-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.console[0].id
  port_range            = "443"
  target                = google_compute_target_https_proxy.console[0].id
}

# --- what focus-console may do beyond its project roles (iam.tf) ----------------------------

# Opening or running a request schedules privacy.run on the queue (signed as focus-invoker:
# iam.tf lets the console act as it).
resource "google_cloud_tasks_queue_iam_member" "console_enqueuer" {
  name     = google_cloud_tasks_queue.jobs.name
  location = google_cloud_tasks_queue.jobs.location
  role     = "roles/cloudtasks.enqueuer"
  member   = google_service_account.console.member
}
