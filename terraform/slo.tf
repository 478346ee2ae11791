# Service-level objectives of focus-api and the multi-window, multi-burn-rate alerts on them
# (Google SRE workbook, "Alerting on SLOs", approach 6). Objectives, the period and the alert
# windows are set here once; every burn-rate threshold is computed from them.
# Runbook: docs/runbooks/api-slo.md. tests/unit/test_terraform_slo.py recomputes the thresholds.

locals {
  slo_period_days = 28

  # What the people using the app get: a request that is not a server error, and a fast one.
  slo_availability_goal   = 0.999
  slo_latency_goal        = 0.95
  slo_latency_max_seconds = 0.3 # a bucket boundary of focus_http_request_duration_seconds

  # Each alert spends `budget_share` of the period's error budget within its long window if
  # the burn lasts; the short window (1/12 of the long one) makes it reset soon after the burn
  # stops. Pages wake someone; the ticket is looked at during the day.
  burn_rate_windows = {
    page_fast = {
      budget_share         = 0.02
      long_window_minutes  = 60
      short_window_minutes = 5
      severity             = "CRITICAL"
      urgency              = "page"
    }
    page_slow = {
      budget_share         = 0.05
      long_window_minutes  = 360
      short_window_minutes = 30
      severity             = "CRITICAL"
      urgency              = "page"
    }
    ticket = {
      budget_share         = 0.1
      long_window_minutes  = 4320
      short_window_minutes = 360
      severity             = "WARNING"
      urgency              = "ticket"
    }
  }

  # burn rate = budget share x period / long window. For 28 days (672 h): 13.44 (1 h), 5.6
  # (6 h), 0.9333 (3 d). Not the workbook's 14.4 / 6 / 1, which hold for a 30-day period only.
  burn_rate_thresholds = {
    for name, window in local.burn_rate_windows :
    name => window.budget_share * local.slo_period_days * 24 * 60 / window.long_window_minutes
  }

  # Cloud Run's own request metrics of focus-api, every revision.
  api_requests_filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=\"${local.api_service_name}\"",
  ])

  # The app's request-duration histogram (api/request_metrics.py) as focus-api's sidecar
  # writes it to Managed Prometheus: prometheus_target, namespace = the service's name.
  # Reads: GETs of the public API's routes (`/v1/…`, `/v2/…`, any later version), by the
  # matched route's template; /internal/* (Pub/Sub, Cloud Tasks, Scheduler), /healthz, the
  # console and unmatched paths are left out.
  public_route_regex = "/v[0-9]+/.+"
  api_reads_filter = join(" AND ", [
    "metric.type=\"prometheus.googleapis.com/focus_http_request_duration_seconds/histogram\"",
    "resource.type=\"prometheus_target\"",
    "resource.labels.namespace=\"${local.api_service_name}\"",
    "metric.labels.method=\"GET\"",
    "metric.labels.route=monitoring.regex.full_match(\"${local.public_route_regex}\")",
  ])
}

# A custom service, not the service Cloud Monitoring detects for Cloud Run by itself: the
# provider has no data source for an auto-detected Cloud Run service (only App Engine and
# Istio ones), whose generated id terraform could then not name, and request-based SLIs over
# Cloud Run's metrics need nothing from it. The telemetry link still shows the service's page.
resource "google_monitoring_custom_service" "api" {
  service_id   = local.api_service_name
  display_name = "focus-api"

  telemetry {
    resource_name = "//run.googleapis.com/${google_cloud_run_v2_service.api.id}"
  }

  depends_on = [google_project_service.enabled]
}

# Availability: requests answered without a server error (5xx) among all. 4xx (a refused
# token, a rate limit, a precondition) is the API working as designed. From Cloud Run's own
# request_count, not the app's histogram: Cloud Run counts what the app never sees or cannot
# record (an instance that crashed, ran out of memory or never started, a request cut at the
# 60 s timeout, Cloud Run's own 503 when no instance can take it) and needs no sidecar, so a
# broken metrics pipeline cannot make the SLI look perfect. The price: Pub/Sub's pushes to
# /internal/pubsub/* count too, and a consumer asking for a redelivery answers 503, so a
# failing consumer spends this budget as well (its failures also page through
# dead-letters.md's alerts; the histogram's 5xx by route tells the two apart).
resource "google_monitoring_slo" "availability" {
  service      = google_monitoring_custom_service.api.service_id
  slo_id       = "availability"
  display_name = "focus-api: ${local.slo_availability_goal * 100} % of requests without a server error (rolling ${local.slo_period_days} days)"

  goal                = local.slo_availability_goal
  rolling_period_days = local.slo_period_days

  request_based_sli {
    good_total_ratio {
      total_service_filter = join(" AND ", [
        "metric.type=\"run.googleapis.com/request_count\"",
        local.api_requests_filter,
      ])
      bad_service_filter = join(" AND ", [
        "metric.type=\"run.googleapis.com/request_count\"",
        local.api_requests_filter,
        "metric.labels.response_code_class=\"5xx\"",
      ])
    }
  }
}

# Latency: reads (GETs of the public API) answered within 300 ms, from the app's histogram
# (api/request_metrics.py), which knows the method and the route; Cloud Run's
# request_latencies knows neither. Writes and Pub/Sub's pushes are not in it. Every status
# counts (a fast 4xx or 5xx is a fast answer; errors spend the availability budget). The app
# measures from the request reaching it to the response's last byte: the time a request waits
# in Cloud Run for an instance (a cold start, full concurrency) is not in it; the dashboard's
# Cloud Run latency panel shows that difference.
resource "google_monitoring_slo" "latency" {
  service      = google_monitoring_custom_service.api.service_id
  slo_id       = "latency"
  display_name = "focus-api: ${local.slo_latency_goal * 100} % of reads within ${local.slo_latency_max_seconds * 1000} ms (rolling ${local.slo_period_days} days)"

  goal                = local.slo_latency_goal
  rolling_period_days = local.slo_period_days

  request_based_sli {
    distribution_cut {
      distribution_filter = local.api_reads_filter
      range {
        max = local.slo_latency_max_seconds # the histogram is in seconds
      }
    }
  }
}

locals {
  slos = {
    availability = google_monitoring_slo.availability
    latency      = google_monitoring_slo.latency
  }

  # One policy per SLO and window pair: both windows burning faster than the pair's rate.
  burn_rate_alerts = merge([
    for slo in keys(local.slos) : {
      for window in keys(local.burn_rate_windows) : "${slo}-${window}" => {
        slo    = slo
        window = window
      }
    }
  ]...)
}

resource "google_monitoring_alert_policy" "slo_burn_rate" {
  for_each = local.burn_rate_alerts

  display_name = "focus-api ${each.value.slo} SLO: error budget burning (${each.value.window})"
  combiner     = "AND"
  severity     = local.burn_rate_windows[each.value.window].severity

  user_labels = {
    slo     = each.value.slo
    urgency = local.burn_rate_windows[each.value.window].urgency
  }

  conditions {
    display_name = "burn rate over ${local.burn_rate_windows[each.value.window].long_window_minutes} min above ${format("%.2f", local.burn_rate_thresholds[each.value.window])}"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${local.slos[each.value.slo].name}\", \"${local.burn_rate_windows[each.value.window].long_window_minutes}m\")"
      comparison      = "COMPARISON_GT"
      threshold_value = local.burn_rate_thresholds[each.value.window]
      duration        = "0s"
    }
  }

  conditions {
    display_name = "burn rate over ${local.burn_rate_windows[each.value.window].short_window_minutes} min above ${format("%.2f", local.burn_rate_thresholds[each.value.window])}"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${local.slos[each.value.slo].name}\", \"${local.burn_rate_windows[each.value.window].short_window_minutes}m\")"
      comparison      = "COMPARISON_GT"
      threshold_value = local.burn_rate_thresholds[each.value.window]
      duration        = "0s"
    }
  }

  notification_channels = var.alert_notification_channels

  documentation {
    mime_type = "text/markdown"
    subject   = "focus-api ${each.value.slo} SLO burning its error budget (${local.burn_rate_windows[each.value.window].urgency})"
    content   = "At this rate ${local.burn_rate_windows[each.value.window].budget_share * 100} % of the ${local.slo_period_days}-day error budget is gone within ${local.burn_rate_windows[each.value.window].long_window_minutes} min: people see errors or slow screens. Runbook: https://github.com/focus-app/backend/blob/main/docs/runbooks/api-slo.md"
  }

  alert_strategy {
    auto_close = "86400s"
  }
}
