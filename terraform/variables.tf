variable "project_id" {
  description = "The Google Cloud (and Firebase) project. The app reads one project for Firebase Auth, FCM, Pub/Sub and Cloud Tasks."
  type        = string
}

variable "region" {
  description = "Region of Cloud Run, Cloud SQL, Cloud Tasks and Scheduler. Its default is the app's FOCUS_CLOUD_TASKS_LOCATION default."
  type        = string
  default     = "europe-west1"
}

variable "environment" {
  description = "Label value that tells environments apart (production, staging)."
  type        = string
  default     = "production"
}

variable "labels" {
  description = "Extra labels on every resource that takes labels."
  type        = map(string)
  default     = {}
}

variable "image" {
  description = "The backend's container image (with `focus` on PATH), e.g. europe-west1-docker.pkg.dev/PROJECT/focus/backend@sha256:..."
  type        = string
}

variable "api_domain" {
  description = "Custom domain the apps use (api.example.com): a load balancer with Cloud Armor in front of focus-api (edge.tf), whose run.app URL then takes internal traffic only. Null: the apps call the run.app URL, with no Cloud Armor. Internal calls always use the run.app URL."
  type        = string
  default     = null
}

variable "console_domain" {
  description = "Custom domain of the compliance console (console.example.com): focus-console behind a load balancer with Identity-Aware Proxy (console.tf). Null: no console service at all; staff use `focus privacy` from a shell."
  type        = string
  default     = null
}

variable "compliance_staff_group" {
  description = "Who IAP lets through to the console, as an IAM member: group:compliance@example.com. Required with console_domain; roles within the console are the app's (focus staff add)."
  type        = string
  default     = null

  validation {
    condition     = var.compliance_staff_group == null || can(regex("^group:.+@.+$", var.compliance_staff_group))
    error_message = "A Google group, as group:NAME@DOMAIN."
  }
}

variable "growth_team_group" {
  description = "Who reads the growth exports in BigQuery (growth.tf), as an IAM member: group:growth@example.com. dataViewer on the growth dataset and jobUser on the project, nothing else. Null: no one is granted."
  type        = string
  default     = null

  validation {
    condition     = var.growth_team_group == null || can(regex("^group:.+@.+$", var.growth_team_group))
    error_message = "A Google group, as group:NAME@DOMAIN."
  }
}

variable "console_max_instances" {
  description = "Most focus-console instances. Each holds up to 2 x console_db_pool_size connections: see sql_max_connections."
  type        = number
  default     = 2
}

variable "console_db_pool_size" {
  description = "FOCUS_DB_POOL_SIZE of focus-console."
  type        = number
  default     = 5
}

variable "api_min_instances" {
  description = "Warm focus-api instances."
  type        = number
  default     = 1
}

variable "api_max_instances" {
  description = "Most focus-api instances. Each holds up to 2 x db_pool_size connections: see sql_max_connections."
  type        = number
  default     = 40
}

variable "api_cpu" {
  type    = string
  default = "2"
}

variable "api_memory" {
  type    = string
  default = "1Gi"
}

variable "api_concurrency" {
  description = "Requests one focus-api instance serves at once."
  type        = number
  default     = 80
}

variable "relay_instances" {
  description = "Outbox relays (focus events relay). Several may run at once (FOR UPDATE SKIP LOCKED) without losing or doubling an event, but a user's events keep their order only within one relay (docs/adr/0026); one is enough."
  type        = number
  default     = 1

  validation {
    condition     = var.relay_instances >= 1
    error_message = "At least one relay must run, or events stay in the outbox."
  }
}

variable "db_pool_size" {
  description = "FOCUS_DB_POOL_SIZE of focus-api (each process opens up to twice as many)."
  type        = number
  default     = 10
}

variable "sql_instance_name" {
  type    = string
  default = "focus-pg"
}

variable "sql_tier" {
  type    = string
  default = "db-custom-4-16384"
}

variable "sql_high_availability" {
  description = "REGIONAL (a standby in another zone, automatic failover) instead of ZONAL."
  type        = bool
  default     = true
}

variable "sql_disk_size_gb" {
  description = "Initial disk; it grows by itself."
  type        = number
  default     = 100
}

variable "sql_max_connections" {
  description = "PostgreSQL max_connections. The plan fails if the services could open more (run.tf)."
  type        = number
  default     = 1000
}

variable "sql_database_name" {
  type    = string
  default = "focus"
}

variable "firestore_location" {
  description = "Location of the (default) Firestore database. An existing database must be imported with its own location (README)."
  type        = string
  default     = "eur3"
}

variable "apns_key_id" {
  description = "FOCUS_APNS_KEY_ID: the id of the .p8 key (the key itself goes into Secret Manager, out of band)."
  type        = string
}

variable "apns_team_id" {
  description = "FOCUS_APNS_TEAM_ID"
  type        = string
}

variable "apns_topic" {
  description = "FOCUS_APNS_TOPIC: the iOS app's bundle id."
  type        = string
}

variable "tasks_queue" {
  description = "Cloud Tasks queue of delayed jobs. Its default is the app's FOCUS_CLOUD_TASKS_QUEUE default."
  type        = string
  default     = "focus-jobs"
}

variable "metrics_sidecar_image" {
  description = "Google's managed-Prometheus sidecar for Cloud Run."
  type        = string
  default     = "us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.2.0"
}

variable "legacy_firestore" {
  description = "The Firebase app's Firestore still holds data (docs/migration/runbook.md): dual writes by phase. False once every entity is postgres_only."
  type        = bool
  default     = true
}

variable "edge_requests_per_ip_per_minute" {
  description = "Cloud Armor: requests per minute from one address before the edge answers 429 (edge.tf). Above the app's FOCUS_RATE_LIMIT_PER_IP: the edge stops floods, the app does the fine work."
  type        = number
  default     = 3000
}

variable "edge_ban_seconds" {
  description = "Cloud Armor: how long an address that keeps flooding (5x the per-minute threshold over 5 minutes) is banned."
  type        = number
  default     = 600
}

variable "redis_tier" {
  description = "Memorystore tier of the rate-limit counts (redis.tf): STANDARD_HA or BASIC."
  type        = string
  default     = "STANDARD_HA"
}

variable "run_subnet_cidr" {
  description = "The subnet focus-api's Direct VPC egress takes addresses from (reaches Memorystore)."
  type        = string
  default     = "10.8.0.0/24"
}

variable "app_check_ios" {
  description = "FOCUS_APP_CHECK_IOS: off, monitor (count in focus_app_check_total) or enforce (403 on changes without a valid App Check token)."
  type        = string
  default     = "monitor"

  validation {
    condition     = contains(["off", "monitor", "enforce"], var.app_check_ios)
    error_message = "off, monitor or enforce."
  }
}

variable "app_check_android" {
  description = "FOCUS_APP_CHECK_ANDROID: off, monitor or enforce."
  type        = string
  default     = "monitor"

  validation {
    condition     = contains(["off", "monitor", "enforce"], var.app_check_android)
    error_message = "off, monitor or enforce."
  }
}

variable "ai_provider" {
  description = "FOCUS_AI_PROVIDER: the hosted provider of AI features (ADR 0021). vertex: Vertex AI Gemini as focus-api's own account (ai.tf enables the API and grants roles/aiplatform.user); local: the rule-based provider only, no Vertex AI at all."
  type        = string
  default     = "vertex"

  validation {
    condition     = contains(["local", "vertex"], var.ai_provider)
    error_message = "local or vertex."
  }
}

variable "ai_model" {
  description = "FOCUS_AI_MODEL: the Gemini model focus-api calls on Vertex AI (the app's default). A hosted model is judged by the eval of ADR 0021 before it is switched on."
  type        = string
  default     = "gemini-2.5-flash"
}

variable "ai_location" {
  description = "FOCUS_AI_LOCATION: the Vertex AI region the model is called in. europe-west4 (Netherlands), the nearest to the default region europe-west1 (the app's default) where Vertex AI's data-residency page lists Gemini 2.5 Flash with ML processing kept in the region; it does not list europe-west1. Not `global` (no such guarantee)."
  type        = string
  default     = "europe-west4"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.ai_location))
    error_message = "A Vertex AI region, e.g. europe-west4 (not global or a multi-region)."
  }
}

variable "ai_daily_tokens_soft" {
  description = "FOCUS_AI_DAILY_TOKENS_SOFT: tokens reserved for the hosted provider in a UTC day past which every further call is reported (a log line; focus_ai_tokens_reserved counts them all). The app's default. A weekly insight reserves about 750 (an over-estimate)."
  type        = number
  default     = 40000000

  validation {
    condition     = var.ai_daily_tokens_soft > 0 && floor(var.ai_daily_tokens_soft) == var.ai_daily_tokens_soft
    error_message = "A whole number of tokens above 0 (and at most ai_daily_tokens_hard)."
  }
}

variable "ai_daily_tokens_hard" {
  description = "FOCUS_AI_DAILY_TOKENS_HARD: tokens the hosted provider may be reserved in a UTC day; a call that would pass it is refused and the local provider answers. The app's default: about 66,000 weekly insights a day, for the Monday of the fan-out."
  type        = number
  default     = 50000000

  validation {
    condition     = var.ai_daily_tokens_hard > 0 && floor(var.ai_daily_tokens_hard) == var.ai_daily_tokens_hard
    error_message = "A whole number of tokens above 0 (and at least ai_daily_tokens_soft)."
  }
}

variable "alert_notification_channels" {
  description = "Cloud Monitoring notification channel ids (projects/PROJECT/notificationChannels/ID) every alert policy notifies. Empty: the policies open incidents in the console only."
  type        = list(string)
  default     = []
}

variable "trace_sample_ratio" {
  description = "FOCUS_TRACE_SAMPLE_RATIO: the share of traces sent to Cloud Trace, in every process. At the ~17k requests/s of docs/capacity.md's peak, 0.01 keeps ~170 traces/s (~20 spans each); docs/adr/0023-tracing.md has the cost."
  type        = number
  default     = 0.01

  validation {
    condition     = var.trace_sample_ratio >= 0 && var.trace_sample_ratio <= 1
    error_message = "trace_sample_ratio is a share: between 0 and 1."
  }
}
