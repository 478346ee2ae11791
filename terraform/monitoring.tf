# Alerts on what hurts people. The app's Prometheus metrics reach Cloud Monitoring through
# Managed Service for Prometheus (the sidecar beside focus-api and focus-relay scrapes
# FOCUS_METRICS_PORT, run.tf), so the conditions are PromQL over them. Each alert's documentation links its runbook.

resource "google_monitoring_alert_policy" "privacy_requests_at_risk" {
  display_name = "Data-subject requests at risk (day 20 of the statutory month)"
  combiner     = "OR"
  severity     = "WARNING"

  conditions {
    display_name = "an open request is 20 days or more on the clock"
    condition_prometheus_query_language {
      query               = "max by (kind) (focus_privacy_requests_at_risk) > 0"
      duration            = "0s"
      evaluation_interval = "300s"
    }
  }

  conditions {
    display_name = "an open request is past its due date"
    condition_prometheus_query_language {
      query               = "max by (kind) (focus_privacy_requests_overdue) > 0"
      duration            = "0s"
      evaluation_interval = "300s"
    }
  }

  notification_channels = var.alert_notification_channels

  documentation {
    mime_type = "text/markdown"
    subject   = "Privacy requests need attention"
    content   = "A GDPR request is at risk of missing its deadline (Art. 12(3)). Runbook: https://github.com/focus-app/backend/blob/main/docs/runbooks/privacy-requests.md"
  }

  alert_strategy {
    auto_close = "86400s"
  }

  depends_on = [google_project_service.enabled]
}
