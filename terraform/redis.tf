# Memorystore for Redis: where every focus-api instance counts its rate limits
# (FOCUS_RATE_LIMIT_STORAGE), so that a limit is the same whichever instance a request
# reaches. Counts are cheap to lose (a failover forgets at most a minute of them), and the app
# counts in its own memory while Redis cannot answer (docs/adr/0013): a basic tier would do,
# standard HA is the default because a failover then takes seconds, not a rebuild.
#
# focus-api reaches it over Direct VPC egress (run.tf) into the subnet below; AUTH and TLS
# are on. The storage URI, with the AUTH string, is a secret added out of band (secrets.tf).

resource "google_compute_network" "main" {
  name                    = "focus"
  auto_create_subnetworks = false

  depends_on = [google_project_service.enabled]
}

# Nothing in this network serves: no ingress at all. Cloud Run's connections out to
# Memorystore (and their replies) are egress, which VPC firewalls allow by default.
resource "google_compute_firewall" "deny_ingress" {
  name      = "focus-deny-ingress"
  network   = google_compute_network.main.id
  direction = "INGRESS"
  priority  = 1000

  source_ranges = ["0.0.0.0/0"]

  deny {
    protocol = "all"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_subnetwork" "run" {
  name                     = "focus-run"
  region                   = var.region
  network                  = google_compute_network.main.id
  ip_cidr_range            = var.run_subnet_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_10_MIN"
    flow_sampling        = 0.1
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

resource "google_redis_instance" "limits" {
  name               = "focus-limits"
  region             = var.region
  tier               = var.redis_tier
  memory_size_gb     = 1
  redis_version      = "REDIS_7_2"
  authorized_network = google_compute_network.main.id
  connect_mode       = "DIRECT_PEERING"

  auth_enabled            = true
  transit_encryption_mode = "SERVER_AUTHENTICATION"

  redis_configs = {
    # Rate-limit keys expire by themselves; under memory pressure drop those closest to it.
    "maxmemory-policy" = "volatile-ttl"
  }

  maintenance_policy {
    weekly_maintenance_window {
      day = "SUNDAY"
      start_time {
        hours   = 3
        minutes = 0
      }
    }
  }

  depends_on = [google_project_service.enabled]
}
