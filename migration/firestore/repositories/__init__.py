"""The repository ports on `google.cloud.firestore.AsyncClient`, one module per entity."""
