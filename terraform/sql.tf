# Cloud SQL for PostgreSQL 15: the datastore. Cloud Run reaches it through the Cloud SQL
# connector (a Unix socket under /cloudsql, mounted in run.tf): IAM decides who may connect
# (roles/cloudsql.client) and the connector encrypts with per-instance certificates.
#
# The database user and its password are not managed here, so the password never enters
# terraform state: create the user once (README) and store the URL in focus-database-url.
# Cloud Run's built-in connector cannot do IAM database authentication, hence a password;
# cloudsql.iam_authentication is on for people, who connect through the Cloud SQL Auth Proxy
# with --auto-iam-authn.

resource "google_sql_database_instance" "main" {
  #checkov:skip=CKV_GCP_79:PostgreSQL 15 on purpose: the version the test machines and CI run; major upgrades are deliberate.
  #checkov:skip=CKV_GCP_108:log_hostname does a reverse DNS lookup per connection, and every client is the Cloud SQL connector: cost, no information.
  #checkov:skip=CKV2_GCP_13:log_duration writes a line per statement at mobile-API volume; Query Insights (below) records latency instead.
  #checkov:skip=CKV_GCP_110:pgAudit not enabled: schema changes are logged (log_statement=ddl) and personal-data access is audited by the app (privacy requests); enabling it also needs CREATE EXTENSION in a migration.
  name             = var.sql_instance_name
  database_version = "POSTGRES_15"
  region           = var.region

  deletion_protection = true # terraform refuses to destroy it

  settings {
    tier              = var.sql_tier
    edition           = "ENTERPRISE"
    availability_type = var.sql_high_availability ? "REGIONAL" : "ZONAL"
    disk_type         = "PD_SSD"
    disk_size         = var.sql_disk_size_gb
    disk_autoresize   = true
    user_labels       = local.labels

    deletion_protection_enabled = true # and so does Google Cloud, whoever asks

    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
      start_time                     = "02:00"
      transaction_log_retention_days = 7

      backup_retention_settings {
        retained_backups = 30
        retention_unit   = "COUNT"
      }
    }

    ip_configuration {
      # A public address with no authorized network: nothing reaches it but the Cloud SQL
      # connector and Auth Proxy, which authenticate with IAM and present per-instance client
      # certificates (required below). Private IP would add a VPC, private services access and
      # Direct VPC egress on every service; see the README for that hardening step.
      #checkov:skip=CKV_GCP_60:Public IP with no authorized networks; only IAM-authorized connector/Auth Proxy connections with client certificates (ssl_mode) can connect.
      ipv4_enabled = true
      ssl_mode     = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    }

    maintenance_window {
      day          = 7 # Sunday
      hour         = 3 # UTC
      update_track = "stable"
    }

    insights_config {
      query_insights_enabled  = true
      record_application_tags = false
      record_client_address   = false
    }

    database_flags {
      name  = "max_connections"
      value = tostring(var.sql_max_connections)
    }
    database_flags {
      name  = "cloudsql.iam_authentication"
      value = "on"
    }
    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }
    database_flags {
      name  = "log_connections"
      value = "on"
    }
    database_flags {
      name  = "log_disconnections"
      value = "on"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
    database_flags {
      name  = "log_temp_files"
      value = "0"
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }
    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }
    database_flags {
      name  = "log_statement"
      value = "ddl"
    }
  }

  depends_on = [google_project_service.enabled]
}

resource "google_sql_database" "focus" {
  name     = var.sql_database_name
  instance = google_sql_database_instance.main.name
}
