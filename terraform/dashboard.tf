# One dashboard for focus-api in production: the SLIs and their error budgets (slo.tf), the
# traffic Cloud Run sees, and what happens after the request (alerts.tf): the outbox, the
# consumers, dead letters, pushes, Firestore mirrors and the AI provider. The layout is written
# out tile by tile (a 48-column mosaic, two charts a row) so tests/unit/test_terraform_slo.py can
# read it as data and check it.

locals {
  # Cloud Run's request metrics of focus-api, in PromQL.
  api_run_labels = "monitored_resource=\"cloud_run_revision\",service_name=\"${local.api_service_name}\""
  # The reads the latency SLO counts, from the app's histogram (slo.tf).
  api_read_labels = "namespace=\"${local.api_service_name}\",method=\"GET\",route=~\"${local.public_route_regex}\""

  dashboard = {
    displayName = "focus-api"
    mosaicLayout = {
      columns = 48
      tiles = [
        {
          xPos   = 0
          yPos   = 0
          width  = 24
          height = 16
          widget = {
            title = "Availability SLI (goal ${local.slo_availability_goal}) and error budget left"
            xyChart = {
              dataSets = [
                {
                  plotType        = "LINE"
                  legendTemplate  = "SLI"
                  timeSeriesQuery = { timeSeriesFilter = { filter = "select_slo_health(\"${google_monitoring_slo.availability.name}\")" } }
                },
                {
                  plotType        = "LINE"
                  legendTemplate  = "budget left"
                  timeSeriesQuery = { timeSeriesFilter = { filter = "select_slo_budget_fraction(\"${google_monitoring_slo.availability.name}\")" } }
                },
              ]
            }
          }
        },
        {
          xPos   = 24
          yPos   = 0
          width  = 24
          height = 16
          widget = {
            title = "Latency SLI (${local.slo_latency_goal} of reads within ${local.slo_latency_max_seconds} s) and error budget left"
            xyChart = {
              dataSets = [
                {
                  plotType        = "LINE"
                  legendTemplate  = "SLI"
                  timeSeriesQuery = { timeSeriesFilter = { filter = "select_slo_health(\"${google_monitoring_slo.latency.name}\")" } }
                },
                {
                  plotType        = "LINE"
                  legendTemplate  = "budget left"
                  timeSeriesQuery = { timeSeriesFilter = { filter = "select_slo_budget_fraction(\"${google_monitoring_slo.latency.name}\")" } }
                },
              ]
            }
          }
        },
        {
          xPos   = 0
          yPos   = 16
          width  = 24
          height = 16
          widget = {
            title = "Requests per second by response class"
            xyChart = {
              dataSets = [
                {
                  plotType        = "STACKED_AREA"
                  timeSeriesQuery = { prometheusQuery = "sum by (response_code_class) (rate(run_googleapis_com:request_count{${local.api_run_labels}}[5m]))" }
                },
              ]
            }
          }
        },
        {
          xPos   = 24
          yPos   = 16
          width  = 24
          height = 16
          widget = {
            title = "Request latency (ms): p50, p95, p99"
            xyChart = {
              dataSets = [
                {
                  plotType        = "LINE"
                  legendTemplate  = "p50"
                  timeSeriesQuery = { prometheusQuery = "histogram_quantile(0.5, sum by (le) (rate(run_googleapis_com:request_latencies_bucket{${local.api_run_labels}}[5m])))" }
                },
                {
                  plotType        = "LINE"
                  legendTemplate  = "p95"
                  timeSeriesQuery = { prometheusQuery = "histogram_quantile(0.95, sum by (le) (rate(run_googleapis_com:request_latencies_bucket{${local.api_run_labels}}[5m])))" }
                },
                {
                  plotType        = "LINE"
                  legendTemplate  = "p99"
                  timeSeriesQuery = { prometheusQuery = "histogram_quantile(0.99, sum by (le) (rate(run_googleapis_com:request_latencies_bucket{${local.api_run_labels}}[5m])))" }
                },
              ]
            }
          }
        },
        {
          xPos   = 0
          yPos   = 32
          width  = 24
          height = 16
          widget = {
            title = "Outbox lag (s) and relay batches per second"
            xyChart = {
              dataSets = [
                {
                  plotType        = "LINE"
                  legendTemplate  = "lag"
                  timeSeriesQuery = { prometheusQuery = "max(focus_outbox_lag_seconds)" }
                },
                {
                  plotType        = "LINE"
                  targetAxis      = "Y2"
                  timeSeriesQuery = { prometheusQuery = "sum by (outcome) (rate(focus_outbox_relay_batches_total[5m]))" }
                },
              ]
            }
          }
        },
        {
          xPos   = 24
          yPos   = 32
          width  = 24
          height = 16
          widget = {
            title = "Consumers: deliveries per second by subscription and outcome"
            xyChart = {
              dataSets = [
                {
                  plotType        = "LINE"
                  timeSeriesQuery = { prometheusQuery = "sum by (subscription, outcome) (rate(focus_events_consumed_total[5m]))" }
                },
              ]
            }
          }
        },
        {
          xPos   = 0
          yPos   = 48
          width  = 24
          height = 16
          widget = {
            title = "Dead letters waiting, and messages consumers gave up on (1 h)"
            xyChart = {
              dataSets = [
                {
                  plotType        = "LINE"
                  timeSeriesQuery = { prometheusQuery = "max by (subscription_id) (pubsub_googleapis_com:subscription_num_undelivered_messages{monitored_resource=\"pubsub_subscription\",subscription_id=~\"${google_pubsub_subscription.dead_letters.name}|${google_pubsub_subscription.legacy_dead_letters.name}\"})" }
                },
                {
                  plotType        = "LINE"
                  timeSeriesQuery = { prometheusQuery = "sum by (subscription) (increase(focus_events_consumed_total{outcome=\"gave_up\"}[1h]))" }
                },
              ]
            }
          }
        },
        {
          xPos   = 24
          yPos   = 48
          width  = 24
          height = 16
          widget = {
            title = "Pushes per second by platform and outcome"
            xyChart = {
              dataSets = [
                {
                  plotType        = "STACKED_AREA"
                  timeSeriesQuery = { prometheusQuery = "sum by (platform, outcome) (rate(focus_push_sent_total[5m]))" }
                },
                {
                  plotType        = "LINE"
                  legendTemplate  = "retries scheduled"
                  timeSeriesQuery = { prometheusQuery = "sum(rate(focus_push_retries_scheduled_total[5m]))" }
                },
              ]
            }
          }
        },
        {
          xPos   = 0
          yPos   = 64
          width  = 24
          height = 16
          widget = {
            title = "Firestore mirrors owed and the oldest one's age (s)"
            xyChart = {
              dataSets = [
                {
                  plotType        = "LINE"
                  legendTemplate  = "owed"
                  timeSeriesQuery = { prometheusQuery = "max(focus_migration_mirror_backlog)" }
                },
                {
                  plotType        = "LINE"
                  legendTemplate  = "oldest (s)"
                  targetAxis      = "Y2"
                  timeSeriesQuery = { prometheusQuery = "max(focus_migration_mirror_oldest_seconds)" }
                },
              ]
            }
          }
        },
        {
          xPos   = 24
          yPos   = 64
          width  = 24
          height = 16
          widget = {
            title = "AI calls per hour by provider and outcome, refusals by reason"
            xyChart = {
              dataSets = [
                {
                  plotType        = "LINE"
                  timeSeriesQuery = { prometheusQuery = "sum by (provider, outcome) (increase(focus_ai_calls_total[1h]))" }
                },
                {
                  plotType        = "LINE"
                  timeSeriesQuery = { prometheusQuery = "sum by (reason) (increase(focus_ai_refusals_total[1h]))" }
                },
              ]
            }
          }
        },
        {
          xPos   = 0
          yPos   = 80
          width  = 24
          height = 16
          widget = {
            title = "AI tokens reserved in the last 24 h (soft limit ${var.ai_daily_tokens_soft}, hard ${var.ai_daily_tokens_hard})"
            xyChart = {
              dataSets = [
                {
                  plotType        = "LINE"
                  timeSeriesQuery = { prometheusQuery = "sum by (provider) (increase(focus_ai_tokens_reserved_total[24h]))" }
                },
              ]
              thresholds = [
                { value = var.ai_daily_tokens_soft, label = "soft" },
                { value = var.ai_daily_tokens_hard, label = "hard" },
              ]
            }
          }
        },
        {
          xPos   = 24
          yPos   = 80
          width  = 24
          height = 16
          widget = {
            title = "AI tokens billed per hour by direction, and provider latency p95 (s)"
            xyChart = {
              dataSets = [
                {
                  plotType        = "LINE"
                  timeSeriesQuery = { prometheusQuery = "sum by (direction) (increase(focus_ai_tokens_used_total[1h]))" }
                },
                {
                  plotType        = "LINE"
                  legendTemplate  = "p95 latency"
                  targetAxis      = "Y2"
                  timeSeriesQuery = { prometheusQuery = "histogram_quantile(0.95, sum by (le) (rate(focus_ai_provider_latency_seconds_bucket[10m])))" }
                },
              ]
            }
          }
        },
        {
          xPos   = 0
          yPos   = 96
          width  = 48
          height = 16
          widget = {
            title = "Reads: p95 latency (s) by route, the app's measure (objective ${local.slo_latency_max_seconds} s)"
            xyChart = {
              dataSets = [
                {
                  plotType        = "LINE"
                  timeSeriesQuery = { prometheusQuery = "histogram_quantile(0.95, sum by (route, le) (rate(focus_http_request_duration_seconds_bucket{${local.api_read_labels}}[5m])))" }
                },
              ]
              thresholds = [
                { value = local.slo_latency_max_seconds, label = "objective" },
              ]
            }
          }
        },
      ]
    }
  }
}

resource "google_monitoring_dashboard" "api" {
  dashboard_json = jsonencode(local.dashboard)

  depends_on = [google_project_service.enabled]
}
