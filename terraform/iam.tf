# One service account per workload, each with only what it uses. Grants on a single resource
# (a secret, the topic, the queue, the invoker account) live beside that resource's file;
# the project-wide ones, for services without resource-level IAM, are here.

resource "google_service_account" "api" {
  account_id   = "focus-api"
  display_name = "focus-api (Cloud Run service)"
  description  = "Serves the mobile API and the /internal/* endpoints Pub/Sub, Cloud Tasks and Scheduler call."
}

resource "google_service_account" "relay" {
  account_id   = "focus-relay"
  display_name = "focus-relay (Cloud Run worker pool)"
  description  = "Publishes the event outbox to Pub/Sub."
}

resource "google_service_account" "invoker" {
  account_id   = "focus-invoker"
  display_name = "focus-invoker (OIDC of internal calls)"
  description  = "The identity Pub/Sub push, Cloud Tasks and Cloud Scheduler sign their OIDC tokens as (FOCUS_INTERNAL_INVOKER). Holds nothing but run.invoker on focus-api and on the focus-growth-exports job."
}

resource "google_service_account" "legacy_trigger" {
  account_id   = "focus-legacy-trigger"
  display_name = "focus-legacy-trigger (Cloud Functions)"
  description  = "Runs functions/ (the legacy Firestore trigger): publishes to legacy-changes, nothing else."
}

resource "google_service_account" "console" {
  account_id   = "focus-console"
  display_name = "focus-console (Cloud Run service behind IAP)"
  description  = "Serves the compliance console and the internal staff API (console.tf, ADR 0019): the database, the files bucket, privacy tasks."
}

resource "google_service_account" "exports" {
  account_id   = "focus-exports"
  display_name = "focus-exports (Cloud Run job)"
  description  = "Runs `focus exports run --compact` daily (focus-growth-exports): reads the database, writes the growth bucket alone."
}

resource "google_service_account" "migrate" {
  account_id   = "focus-migrate"
  display_name = "focus-migrate (Cloud Run job)"
  description  = "Runs `focus db upgrade` before a release."
}

# --- focus-api -------------------------------------------------------------------------

resource "google_project_iam_member" "api" {
  for_each = toset([
    "roles/cloudsql.client",         # the Cloud SQL connector (cloudsql.instances.connect, .get)
    "roles/datastore.user",          # Firestore during the migration
    "roles/monitoring.metricWriter", # the managed-Prometheus sidecar (local.metrics_workloads)
  ])

  project = var.project_id
  role    = each.value
  member  = google_service_account.api.member
}

# FCM HTTP v1 (messages:send) needs one permission, cloudmessaging.messages.create. The only
# predefined role with it, roles/firebasecloudmessaging.admin, also manages topic
# subscriptions and reads delivery data; this role grants the one permission and no more.
resource "google_project_iam_custom_role" "fcm_sender" {
  role_id     = "focusFcmSender"
  title       = "Focus FCM sender"
  description = "Send messages through FCM HTTP v1, nothing else."
  permissions = ["cloudmessaging.messages.create"]
}

resource "google_project_iam_member" "api_fcm_sender" {
  project = var.project_id
  role    = google_project_iam_custom_role.fcm_sender.id
  member  = google_service_account.api.member
}

# Firebase Auth's part of an erasure (identity/firebase_accounts.py), run by focus-api's task
# handler: read the account (export, verification scan), revoke its sessions, delete it. The
# predefined roles/firebaseauth.admin also manages providers, tenants and configuration.
resource "google_project_iam_custom_role" "account_eraser" {
  role_id     = "focusAccountEraser"
  title       = "Focus account eraser"
  description = "Read, revoke and delete Firebase Auth users for data-subject requests."
  permissions = ["firebaseauth.users.get", "firebaseauth.users.update", "firebaseauth.users.delete"]
}

resource "google_project_iam_member" "api_account_eraser" {
  project = var.project_id
  role    = google_project_iam_custom_role.account_eraser.id
  member  = google_service_account.api.member
}

# --- focus-console ---------------------------------------------------------------------

# Staff find a request's subject by their account's email or phone number (users.get only).
resource "google_project_iam_custom_role" "account_finder" {
  role_id     = "focusAccountFinder"
  title       = "Focus account finder"
  description = "Look up a Firebase Auth user by email or phone number, nothing else."
  permissions = ["firebaseauth.users.get"]
}

resource "google_project_iam_member" "console_account_finder" {
  project = var.project_id
  role    = google_project_iam_custom_role.account_finder.id
  member  = google_service_account.console.member
}

resource "google_project_iam_member" "console" {
  for_each = toset([
    "roles/cloudsql.client", # the Cloud SQL connector
    "roles/datastore.user",  # Firestore during the migration (dual writes by phase)
  ])

  project = var.project_id
  role    = each.value
  member  = google_service_account.console.member
}

# --- focus-relay -----------------------------------------------------------------------

resource "google_project_iam_member" "relay_sql_client" {
  project = var.project_id
  role    = "roles/cloudsql.client"
  member  = google_service_account.relay.member
}

# The relay worker also repairs pending Firestore mirrors while the migration runs.
resource "google_project_iam_member" "relay_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.relay.member
}

# Its managed-Prometheus sidecar writes the outbox's and the mirrors' metrics as this account
# (time series have no resource-level IAM).
resource "google_project_iam_member" "relay_metric_writer" {
  project = var.project_id
  role    = "roles/monitoring.metricWriter"
  member  = google_service_account.relay.member
}

# Spans to Cloud Trace (FOCUS_TRACING=cloud in local.common_env): every account whose
# workload runs with those settings. Traces have no resource-level IAM.
resource "google_project_iam_member" "trace_agent" {
  for_each = {
    api     = google_service_account.api.member
    relay   = google_service_account.relay.member
    console = google_service_account.console.member
    exports = google_service_account.exports.member
  }

  project = var.project_id
  role    = "roles/cloudtrace.agent"
  member  = each.value
}

# --- focus-legacy-trigger --------------------------------------------------------------

# functions/main.py runs as this account (`service_account="focus-legacy-trigger@"`).
resource "google_pubsub_topic_iam_member" "legacy_trigger_publisher" {
  topic  = google_pubsub_topic.legacy_changes.id
  role   = "roles/pubsub.publisher"
  member = google_service_account.legacy_trigger.member
}

# --- focus-migrate ---------------------------------------------------------------------

resource "google_project_iam_member" "migrate_sql_client" {
  project = var.project_id
  role    = "roles/cloudsql.client"
  member  = google_service_account.migrate.member
}

# --- focus-exports ---------------------------------------------------------------------

# Its other grants are on single resources: the database URL (secrets.tf), the growth bucket
# (growth.tf).
resource "google_project_iam_member" "exports_sql_client" {
  project = var.project_id
  role    = "roles/cloudsql.client"
  member  = google_service_account.exports.member
}

# --- focus-invoker ---------------------------------------------------------------------

# Cloud Tasks signs a task's OIDC token as the account the creator names: focus-api must be
# allowed to act as focus-invoker to create such tasks (jobs/cloud_tasks.py).
resource "google_service_account_iam_member" "api_acts_as_invoker" {
  service_account_id = google_service_account.invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.api.member
}

# The console schedules privacy.run tasks too, signed as focus-invoker (console.tf).
resource "google_service_account_iam_member" "console_acts_as_invoker" {
  service_account_id = google_service_account.invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.console.member
}

# Pub/Sub mints the push subscription's OIDC tokens as focus-invoker. Needed for projects
# created before 8 April 2021 (this Firebase project is older); harmless after.
resource "google_service_account_iam_member" "pubsub_agent_token_creator" {
  service_account_id = google_service_account.invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent

  depends_on = [google_project_service.enabled]
}
