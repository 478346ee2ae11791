# Operational alerts: what the API's SLOs (slo.tf) cannot see because it happens after the
# request, in the outbox, the consumers, the pushes, the Firestore mirrors and the AI budget.
# As in monitoring.tf: PromQL over the app's metrics in Managed Service for Prometheus (the
# names are the ones the app declares, counters with `_total`; tests/unit/test_terraform_slo.py
# checks them), Cloud Monitoring's own metrics through their PromQL names. Each alert's
# documentation links its runbook in docs/runbooks/.

locals {
  runbooks = "https://github.com/focus-app/backend/blob/main/docs/runbooks"

  # Events wait this long in the outbox before someone is paged: pushes, AI results and
  # every consumer run that much behind the writes.
  outbox_lag_page_seconds = 300
  # Firestore mirrors owed by the repair loop; a write older than this is still missing from
  # what the legacy app reads.
  mirror_backlog_max         = 1000
  mirror_oldest_max_seconds  = 1800
  consumer_failure_ratio_max = 0.05
  push_error_ratio_max       = 0.05
  # Sends a minute before a platform's error ratio means anything (quiet hours).
  push_min_per_second = 1
}

resource "google_monitoring_alert_policy" "outbox_lag" {
  display_name = "Outbox: events are not reaching Pub/Sub"
  combiner     = "OR"
  severity     = "CRITICAL"
  user_labels  = { urgency = "page" }

  conditions {
    display_name = "the first event in the queue is older than ${local.outbox_lag_page_seconds} s"
    condition_prometheus_query_language {
      query               = "max(focus_outbox_lag_seconds) > ${local.outbox_lag_page_seconds}"
      duration            = "300s"
      evaluation_interval = "60s"
    }
  }

  conditions {
    display_name = "relay batches keep failing"
    condition_prometheus_query_language {
      query               = "sum(rate(focus_outbox_relay_batches_total{outcome=\"failed\"}[5m])) > 0 and sum(rate(focus_outbox_relay_batches_total{outcome=\"published\"}[5m])) == 0"
      duration            = "600s"
      evaluation_interval = "60s"
    }
  }

  notification_channels = var.alert_notification_channels

  documentation {
    mime_type = "text/markdown"
    subject   = "Outbox lag: events are held back"
    content   = "Events written by the API are not being published: silent pushes, AI results and every other consumer wait. Runbook: ${local.runbooks}/outbox-lag.md"
  }

  alert_strategy {
    auto_close = "86400s"
  }

  depends_on = [google_project_service.enabled]
}

# A dead relay reports no lag at all: the alert above would stay silent when it matters most.
# Only the relay's own series count: focus-api imports the relay's metrics and reports the
# gauge too (at 0), which would hide a relay that is gone.
resource "google_monitoring_alert_policy" "outbox_relay_silent" {
  display_name = "Outbox: the relay reports no metrics"
  combiner     = "OR"
  severity     = "WARNING"
  user_labels  = { urgency = "ticket" }

  conditions {
    display_name = "no focus_outbox_lag_seconds from ${local.relay_pool_name} for 15 minutes"
    condition_prometheus_query_language {
      query               = "absent(focus_outbox_lag_seconds{namespace=\"${local.relay_pool_name}\"})"
      duration            = "900s"
      evaluation_interval = "300s"
    }
  }

  notification_channels = var.alert_notification_channels

  documentation {
    mime_type = "text/markdown"
    subject   = "The outbox relay is not reporting"
    content   = "Nothing reports the outbox's lag: the relay is down or not scraped, and the lag alert cannot fire. Runbook: ${local.runbooks}/outbox-lag.md"
  }

  alert_strategy {
    auto_close = "86400s"
  }

  depends_on = [google_project_service.enabled]
}

# The latency SLO reads the app's histogram through focus-api's sidecar: if nothing arrives,
# the SLO has no requests to judge and its burn-rate alerts stay silent whatever people see.
resource "google_monitoring_alert_policy" "api_metrics_silent" {
  display_name = "focus-api reports no request metrics"
  combiner     = "OR"
  severity     = "WARNING"
  user_labels  = { urgency = "ticket" }

  conditions {
    display_name = "no focus_http_request_duration_seconds from ${local.api_service_name} for 15 minutes"
    condition_prometheus_query_language {
      query               = "absent(focus_http_request_duration_seconds_count{namespace=\"${local.api_service_name}\"})"
      duration            = "900s"
      evaluation_interval = "300s"
    }
  }

  notification_channels = var.alert_notification_channels

  documentation {
    mime_type = "text/markdown"
    subject   = "focus-api's request metrics are missing"
    content   = "Managed Prometheus receives no request durations from focus-api: the latency SLO cannot see slow reads and its alerts cannot fire. Runbook: ${local.runbooks}/api-slo.md"
  }

  alert_strategy {
    auto_close = "86400s"
  }

  depends_on = [google_project_service.enabled]
}

# Only while the Firestore migration runs (legacy_firestore): afterwards nothing is mirrored.
resource "google_monitoring_alert_policy" "mirror_backlog" {
  count = var.legacy_firestore ? 1 : 0

  display_name = "Firestore mirrors are falling behind"
  combiner     = "OR"
  severity     = "ERROR"
  user_labels  = { urgency = "page" }

  conditions {
    display_name = "more than ${local.mirror_backlog_max} mirrors owed"
    condition_prometheus_query_language {
      query               = "max(focus_migration_mirror_backlog) > ${local.mirror_backlog_max}"
      duration            = "900s"
      evaluation_interval = "60s"
    }
  }

  conditions {
    display_name = "the oldest owed mirror is older than ${local.mirror_oldest_max_seconds} s"
    condition_prometheus_query_language {
      query               = "max(focus_migration_mirror_oldest_seconds) > ${local.mirror_oldest_max_seconds}"
      duration            = "300s"
      evaluation_interval = "60s"
    }
  }

  notification_channels = var.alert_notification_channels

  documentation {
    mime_type = "text/markdown"
    subject   = "Firestore mirror backlog"
    content   = "Committed writes are not reaching Firestore: the legacy app shows stale data, and reads of entities Firestore still serves fail as unavailable. Runbook: ${local.runbooks}/mirror-backlog.md"
  }

  alert_strategy {
    auto_close = "86400s"
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "dead_letters" {
  display_name = "Pub/Sub dead letters waiting"
  combiner     = "OR"
  severity     = "WARNING"
  user_labels  = { urgency = "ticket" }

  conditions {
    display_name = "a dead-letter subscription holds messages"
    condition_prometheus_query_language {
      query               = "max by (subscription_id) (pubsub_googleapis_com:subscription_num_undelivered_messages{monitored_resource=\"pubsub_subscription\",subscription_id=~\"${google_pubsub_subscription.dead_letters.name}|${google_pubsub_subscription.legacy_dead_letters.name}\"}) > 0"
      duration            = "300s"
      evaluation_interval = "300s"
    }
  }

  notification_channels = var.alert_notification_channels

  documentation {
    mime_type = "text/markdown"
    subject   = "Messages no consumer could take"
    content   = "Pub/Sub could not deliver messages to focus-api within their attempts and dead-lettered them: what they carried (a push, an AI result, a legacy change) has not happened. Runbook: ${local.runbooks}/dead-letters.md"
  }

  alert_strategy {
    auto_close = "86400s"
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "consumers_failing" {
  display_name = "Event consumers are failing"
  combiner     = "OR"
  severity     = "ERROR"
  user_labels  = { urgency = "ticket" }

  conditions {
    display_name = "a consumer gave up on messages (recorded in failed_messages)"
    condition_prometheus_query_language {
      query               = "sum by (subscription) (increase(focus_events_consumed_total{outcome=\"gave_up\"}[30m])) > 0"
      duration            = "0s"
      evaluation_interval = "300s"
    }
  }

  conditions {
    display_name = "more than ${local.consumer_failure_ratio_max * 100} % of a consumer's deliveries fail"
    condition_prometheus_query_language {
      query               = "sum by (subscription) (rate(focus_events_consumed_total{outcome=\"failed\"}[10m])) / sum by (subscription) (rate(focus_events_consumed_total[10m])) > ${local.consumer_failure_ratio_max}"
      duration            = "900s"
      evaluation_interval = "60s"
    }
  }

  notification_channels = var.alert_notification_channels

  documentation {
    mime_type = "text/markdown"
    subject   = "Event consumers failing"
    content   = "A consumer keeps failing or gave up on events: their effects (pushes, AI results) are missing until `focus events replay`. Runbook: ${local.runbooks}/dead-letters.md"
  }

  alert_strategy {
    auto_close = "86400s"
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "push_errors" {
  display_name = "Silent pushes are failing"
  combiner     = "OR"
  severity     = "ERROR"
  user_labels  = { urgency = "page" }

  # Errors: what APNs or FCM refused (`rejected`) or could not take now (`retry_later`).
  # Unregistered and bad tokens are apps uninstalled or moved: normal churn, not errors.
  conditions {
    display_name = "more than ${local.push_error_ratio_max * 100} % of a platform's sends fail"
    condition_prometheus_query_language {
      query               = "(sum by (platform) (rate(focus_push_sent_total{outcome=~\"rejected|retry_later\"}[10m])) / sum by (platform) (rate(focus_push_sent_total[10m])) > ${local.push_error_ratio_max}) and on (platform) (sum by (platform) (rate(focus_push_sent_total[10m])) > ${local.push_min_per_second})"
      duration            = "900s"
      evaluation_interval = "60s"
    }
  }

  notification_channels = var.alert_notification_channels

  documentation {
    mime_type = "text/markdown"
    subject   = "APNs / FCM failing"
    content   = "Devices are not being told to sync: schedules and focus sessions changed elsewhere reach a phone only when its app is opened. Runbook: ${local.runbooks}/push-errors.md"
  }

  alert_strategy {
    auto_close = "86400s"
  }

  depends_on = [google_project_service.enabled]
}

# The app budgets tokens per UTC day; PromQL has no calendar day, so this sums the last 24 h,
# which always holds all of today: it fires no later than the app reports the soft limit, and
# may fire earlier after a busy evening. Counters of instances that started within the window
# lose their first scrape's increment, a small under-count.
resource "google_monitoring_alert_policy" "ai_token_budget" {
  display_name = "AI: daily token budget past its soft limit"
  combiner     = "OR"
  severity     = "WARNING"
  user_labels  = { urgency = "ticket" }

  conditions {
    display_name = "tokens reserved in 24 h above ai_daily_tokens_soft (${var.ai_daily_tokens_soft})"
    condition_prometheus_query_language {
      query               = "sum by (provider) (increase(focus_ai_tokens_reserved_total[24h])) > ${var.ai_daily_tokens_soft}"
      duration            = "0s"
      evaluation_interval = "300s"
    }
  }

  conditions {
    display_name = "calls refused at the hard limit (ai_daily_tokens_hard)"
    condition_prometheus_query_language {
      query               = "sum by (provider) (increase(focus_ai_refusals_total{reason=\"token_budget\"}[1h])) > 0"
      duration            = "0s"
      evaluation_interval = "300s"
    }
  }

  notification_channels = var.alert_notification_channels

  documentation {
    mime_type = "text/markdown"
    subject   = "AI token budget"
    content   = "The hosted AI provider is past the day's soft token limit (or refused at the hard one, where the local provider writes people's insights). Runbook: ${local.runbooks}/ai-token-budget.md"
  }

  alert_strategy {
    auto_close = "86400s"
  }

  depends_on = [google_project_service.enabled]
}
