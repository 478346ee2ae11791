# Files the service hands to people: GDPR export archives (privacy/exports/<request>.zip), made
# by focus-api and downloaded through V4 signed URLs that live at most 7 days. Nothing here is
# public: a signed URL is the only way in, and the bucket forgets each archive after 30 days.

resource "google_storage_bucket" "files" {
  #checkov:skip=CKV_GCP_62:Access logs would record who downloaded a data subject's export; the app audits each download itself (privacy_audit).
  #checkov:skip=CKV_GCP_78:No versioning: an erased user's archive must be gone, not kept as a noncurrent version.
  name                        = "${var.project_id}-focus-files"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  lifecycle_rule {
    condition {
      age            = 30
      matches_prefix = ["privacy/exports/"]
    }
    action {
      type = "Delete"
    }
  }

  # Parts of an export still being assembled: a request that stopped for good leaves none.
  lifecycle_rule {
    condition {
      age            = 7
      matches_prefix = ["privacy/staging/"]
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.enabled]
}

# focus-api writes, reads and deletes the files (export, erasure); the console (console.tf)
# hands staff the exports through signed URLs too. Nothing else touches them.
resource "google_storage_bucket_iam_member" "api_files" {
  bucket = google_storage_bucket.files.name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.api.member
}

# Signed URLs without a key file: focus-api signs as itself through IAM signBlob.
resource "google_service_account_iam_member" "api_signs_urls" {
  service_account_id = google_service_account.api.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_service_account.api.member
}

# The console's download links: it reads the archives and signs as itself, like focus-api.
resource "google_storage_bucket_iam_member" "console_files" {
  bucket = google_storage_bucket.files.name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.console.member
}

resource "google_service_account_iam_member" "console_signs_urls" {
  service_account_id = google_service_account.console.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_service_account.console.member
}
