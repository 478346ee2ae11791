# AI feature hooks (ADR 0021): the `ai` event consumer on focus-api, the weekly fan-out of
# insights, and Vertex AI Gemini as the hosted provider (var.ai_provider = "vertex"). The
# local, rule-based provider needs none of Vertex: with ai_provider = "local" the API is not
# enabled and focus-api holds no Vertex AI role. The consumer and the weekly job exist either
# way (the app falls back to the local provider, ADR 0021).

locals {
  ai_vertex = var.ai_provider == "vertex"
}

# --- the `ai` consumer -----------------------------------------------------------------

# A subscription of its own on the events topic, not a second handler on `notifications`: a
# Vertex AI outage (timeouts, 429s) then only delays and dead-letters this subscription's
# messages, and never holds back push notifications, which are delivered, ordered and retried
# on their own subscription.
resource "google_pubsub_subscription" "ai" {
  name  = "focus-events-ai"
  topic = google_pubsub_topic.events.id

  # Push: the time focus-api has to answer before Pub/Sub counts the delivery as failed.
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  # One user's events arrive in the order they were published (ordering key = user id).
  enable_message_ordering = true
  # Only the events the consumer acts on (ai/hooks.py SUGGESTING_EVENTS, by the `event_type`
  # attribute events/pubsub.py sets): Pub/Sub acknowledges the rest itself, so they are never
  # pushed to focus-api. A filter is fixed when the subscription is created: other event types
  # mean a new subscription (tests/unit/test_terraform_ai.py fails until this says the same).
  filter = "attributes.event_type = \"focus_session.abandoned\" OR attributes.event_type = \"focus_session.completed\""

  expiration_policy {
    ttl = "" # never expires (the default deletes a subscription after 31 idle days)
  }

  push_config {
    # The path segment is the consumer's name in the app (`ai`, ADR 0021).
    push_endpoint = "${local.api_url}/internal/pubsub/ai"

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
    # As `notifications` (pubsub.tf): must equal FOCUS_CONSUMER_MAX_ATTEMPTS (10), after which
    # the consumer keeps the message in failed_messages and acknowledges it.
    max_delivery_attempts = 10
  }
}

# Dead-lettering is done by Pub/Sub's service agent: it publishes to focus-events-dead (its
# grant is in pubsub.tf) and must acknowledge (subscribe to) this subscription.
resource "google_pubsub_subscription_iam_member" "pubsub_agent_ai_subscriber" {
  subscription = google_pubsub_subscription.ai.id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# --- the weekly fan-out ----------------------------------------------------------------

# Every Monday the app enqueues the weekly insights, in per-user batches, on the Cloud Tasks
# queue (tasks.tf) itself. A retry is harmless: the app names its tasks, so duplicates are
# refused, and an insight is made once per person and week whatever the redeliveries.
resource "google_cloud_scheduler_job" "ai_weekly" {
  name        = "focus-ai-weekly"
  description = "POST /internal/tasks/ai.weekly every Monday at 12:00 UTC"
  region      = var.region
  schedule    = "0 12 * * 1"
  time_zone   = "Etc/UTC"

  # As the other jobs; focus-api ends a request after 60 s anyway (run.tf).
  attempt_deadline = "300s"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "10s"
    max_backoff_duration = "300s"
  }

  http_target {
    http_method = "POST"
    uri         = "${local.api_url}/internal/tasks/ai.weekly"
    body        = base64encode("{}")
    headers     = { "Content-Type" = "application/json" }

    oidc_token {
      service_account_email = google_service_account.invoker.email
      audience              = local.internal_audience
    }
  }

  depends_on = [google_project_service.enabled]
}

# --- Vertex AI -------------------------------------------------------------------------

resource "google_project_service" "ai" {
  count              = local.ai_vertex ? 1 : 0
  service            = "aiplatform.googleapis.com"
  disable_on_destroy = false
}

# focus-api calls Gemini (generateContent on a Google publisher model in var.ai_location).
# Publisher models have no resource-level IAM: the permission, aiplatform.endpoints.predict,
# is checked on the project. roles/aiplatform.user is the predefined role for calling models;
# it also reads and manages other Vertex AI resources of the project (there are none here). If
# checkov or an organisation policy requires less, a custom role with only
# aiplatform.endpoints.predict is enough for these calls.
resource "google_project_iam_member" "api_vertex_ai" {
  count = local.ai_vertex ? 1 : 0

  project = var.project_id
  role    = "roles/aiplatform.user"
  member  = google_service_account.api.member

  depends_on = [google_project_service.ai]
}

# focus-api refuses to start with the soft limit above the hard one (app/settings.py `check`):
# the plan warns first. (Variable validations cannot compare two variables before
# Terraform 1.9.)
check "ai_token_budget" {
  assert {
    condition     = 0 < var.ai_daily_tokens_soft && var.ai_daily_tokens_soft <= var.ai_daily_tokens_hard
    error_message = "ai_daily_tokens_soft must be above 0 and at most ai_daily_tokens_hard."
  }
}
