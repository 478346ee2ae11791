# The apps' front door when they call a custom domain (var.api_domain): a global external
# Application Load Balancer with Cloud Armor in front of focus-api (docs/adr/0013).
#
# Cloud Armor stops floods from one address before they reach an instance: past
# edge_requests_per_ip_per_minute an address gets 429 at the edge, and an address that keeps
# going is banned for edge_ban_seconds. The app's own per-IP and per-user limits
# (FOCUS_RATE_LIMIT_*, counted in Redis: redis.tf) sit below that with problem+json answers.
# Mobile carriers put many phones behind one address (CGNAT), so per-IP limits are generous;
# per-user limits do the fine work.
#
# With the load balancer, focus-api takes no traffic from the internet but through it
# (run.tf ingress): the run.app URL would otherwise be a way around Cloud Armor. Pub/Sub push,
# Cloud Tasks and Scheduler of this project still call the run.app URL: Cloud Run counts them
# as internal traffic.

locals {
  edge = var.api_domain != null
  # Proxies appending to X-Forwarded-For before the app (FOCUS_CLIENT_IP_PROXY_HOPS): the load
  # balancer adds "<client>, <load balancer>"; Cloud Run's front end alone adds "<client>".
  client_ip_proxy_hops = local.edge ? 2 : 1
}

resource "google_compute_security_policy" "api" {
  count       = local.edge ? 1 : 0
  name        = "focus-api-edge"
  description = "Per-IP flood control and known-exploit blocking in front of focus-api."
  type        = "CLOUD_ARMOR"

  adaptive_protection_config {
    layer_7_ddos_defense_config {
      enable = true
    }
  }

  rule {
    description = "Log4Shell probes (CVE-2021-44228 and kin): refused at the edge."
    action      = "deny(403)"
    priority    = 100
    match {
      expr {
        expression = "evaluatePreconfiguredExpr('cve-canary')"
      }
    }
  }

  rule {
    description = "Per-IP flood control: 429 over the threshold, a ban for addresses that keep on."
    action      = "rate_based_ban"
    priority    = 1000
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action   = "allow"
      exceed_action    = "deny(429)"
      enforce_on_key   = "IP"
      ban_duration_sec = var.edge_ban_seconds
      rate_limit_threshold {
        count        = var.edge_requests_per_ip_per_minute
        interval_sec = 60
      }
      ban_threshold {
        count        = var.edge_requests_per_ip_per_minute * 5
        interval_sec = 300
      }
    }
  }

  rule {
    description = "Everything else reaches the app, which checks every token."
    action      = "allow"
    priority    = 2147483647
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }

  depends_on = [google_project_service.enabled]
}

resource "google_compute_region_network_endpoint_group" "api" {
  count                 = local.edge ? 1 : 0
  name                  = "focus-api"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = google_cloud_run_v2_service.api.name
  }
}

resource "google_compute_backend_service" "api" {
  count                 = local.edge ? 1 : 0
  name                  = "focus-api"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"
  security_policy       = google_compute_security_policy.api[0].id

  backend {
    group = google_compute_region_network_endpoint_group.api[0].id
  }

  log_config {
    enable      = true
    sample_rate = 0.1 # Cloud Armor's decisions are in these logs; 10 % keeps the volume sane
  }
}

resource "google_compute_url_map" "api" {
  count           = local.edge ? 1 : 0
  name            = "focus-api"
  default_service = google_compute_backend_service.api[0].id
}

resource "google_compute_managed_ssl_certificate" "api" {
  count = local.edge ? 1 : 0
  name  = "focus-api"

  managed {
    domains = [var.api_domain]
  }
}

resource "google_compute_ssl_policy" "api" {
  count           = local.edge ? 1 : 0
  name            = "focus-api"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_target_https_proxy" "api" {
  count            = local.edge ? 1 : 0
  name             = "focus-api"
  url_map          = google_compute_url_map.api[0].id
  ssl_certificates = [google_compute_managed_ssl_certificate.api[0].id]
  ssl_policy       = google_compute_ssl_policy.api[0].id
}

resource "google_compute_global_address" "api" {
  count = local.edge ? 1 : 0
  name  = "focus-api"
}

resource "google_compute_global_forwarding_rule" "api" {
  count                 = local.edge ? 1 : 0
  name                  = "focus-api-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.api[0].id
  port_range            = "443"
  target                = google_compute_target_https_proxy.api[0].id
}
