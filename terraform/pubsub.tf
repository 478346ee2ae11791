# Events: the relay publishes the outbox to one topic (ordering key: the user id); each
# consumer is a push subscription to /internal/pubsub/{subscription} on focus-api
# (docs/events.md, ADR 0007, ADR 0010).

resource "google_pubsub_topic" "events" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption: events carry ids, never personal data (docs/events.md).
  name                       = "focus-events" # FOCUS_PUBSUB_TOPIC's default
  message_retention_duration = "604800s"      # 7 days: a subscription can be replayed (seek) that far

  depends_on = [google_project_service.enabled]
}

# What no consumer could take after every attempt: kept, not dropped.
resource "google_pubsub_topic" "events_dead" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption: events carry ids, never personal data (docs/events.md).
  name                       = "focus-events-dead"
  message_retention_duration = "604800s"

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "notifications" {
  name  = "focus-events-notifications"
  topic = google_pubsub_topic.events.id

  # Push: the time focus-api has to answer before Pub/Sub counts the delivery as failed.
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  # One user's events arrive in the order they were published (ordering key = user id).
  enable_message_ordering = true

  expiration_policy {
    ttl = "" # never expires (the default deletes a subscription after 31 idle days)
  }

  push_config {
    # The path segment is the consumer's name in the app (app/bootstrap.py NOTIFICATIONS).
    push_endpoint = "${local.api_url}/internal/pubsub/notifications"

    oidc_token {
      service_account_email = google_service_account.invoker.email # FOCUS_INTERNAL_INVOKER
      audience              = local.internal_audience              # FOCUS_INTERNAL_AUDIENCE
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic = google_pubsub_topic.events_dead.id
    # Must equal FOCUS_CONSUMER_MAX_ATTEMPTS (app/settings.py, default 10): on its 10th
    # delivery the consumer records a still-failing message in failed_messages and
    # acknowledges it, so `focus events replay` can run it again; this topic catches what
    # never reached the app. The policy is also what makes Pub/Sub send `deliveryAttempt`,
    # which the consumer counts with. tests/unit/test_terraform.py fails if the two drift.
    max_delivery_attempts = 10
  }
}

# Dead letters are kept for a week for inspection (`gcloud pubsub subscriptions pull`).
resource "google_pubsub_subscription" "dead_letters" {
  name  = "focus-events-dead-letters"
  topic = google_pubsub_topic.events_dead.id

  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }
}

# The relay publishes; nothing else does.
resource "google_pubsub_topic_iam_member" "relay_publisher" {
  topic  = google_pubsub_topic.events.id
  role   = "roles/pubsub.publisher"
  member = google_service_account.relay.member
}

# Dead-lettering is done by Pub/Sub's own service agent: it must publish to the dead-letter
# topic and acknowledge (subscribe to) the source subscription.
resource "google_pubsub_topic_iam_member" "pubsub_agent_dead_letter_publisher" {
  topic  = google_pubsub_topic.events_dead.id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_notifications_subscriber" {
  subscription = google_pubsub_subscription.notifications.id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# Legacy sync: functions/ publishes every write of a legacy Firestore document under users/
# (ordering key: the uid); focus-api applies each at /internal/pubsub/legacy-sync
# (migration/legacy_sync, ADR 0012). The Firebase CLI deploys the function, as the project's
# default compute identity, which may publish in its own project.
resource "google_pubsub_topic" "legacy_changes" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption, as the Firestore documents these messages copy; kept 7 days at most.
  name                       = "legacy-changes" # functions/main.py LEGACY_CHANGES_TOPIC's default
  message_retention_duration = "604800s"

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "legacy_changes_dead" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption, as the Firestore documents these messages copy; kept 7 days at most.
  name                       = "legacy-changes-dead"
  message_retention_duration = "604800s"

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "legacy_sync" {
  name  = "legacy-changes-sync"
  topic = google_pubsub_topic.legacy_changes.id

  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  # One user's changes in the order Firestore made them (ordering key = uid): a stalled
  # message holds up only its user, which is why the consumer acknowledges what it keeps.
  enable_message_ordering = true

  expiration_policy {
    ttl = ""
  }

  push_config {
    # The path segment is the consumer's name in the app (migration/legacy_sync SUBSCRIPTION).
    push_endpoint = "${local.api_url}/internal/pubsub/legacy-sync"

    oidc_token {
      service_account_email = google_service_account.invoker.email # FOCUS_INTERNAL_INVOKER
      audience              = local.internal_audience              # FOCUS_INTERNAL_AUDIENCE
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic = google_pubsub_topic.legacy_changes_dead.id
    # As the events' subscription: must equal the consumer's max attempts (10), after which it
    # keeps the message in failed_messages and acknowledges it.
    max_delivery_attempts = 10
  }
}

resource "google_pubsub_subscription" "legacy_dead_letters" {
  name  = "legacy-changes-dead-letters"
  topic = google_pubsub_topic.legacy_changes_dead.id

  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_topic_iam_member" "pubsub_agent_legacy_dead_letter_publisher" {
  topic  = google_pubsub_topic.legacy_changes_dead.id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_legacy_sync_subscriber" {
  subscription = google_pubsub_subscription.legacy_sync.id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
