# Firestore (native mode): what the old app versions still write during the migration
# (ARCHITECTURE.md). A Firebase-born project already has its (default) database: import it
# before the first apply instead of creating it (README), with var.firestore_location set to
# its location (a different location would mean a new database).

resource "google_firestore_database" "default" {
  name        = "(default)"
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"

  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON" # `terraform destroy` forgets it, never deletes it

  lifecycle {
    prevent_destroy = true
  }

  depends_on = [google_project_service.enabled]
}
