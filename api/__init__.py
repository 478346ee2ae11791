"""The HTTP API: FastAPI app, versions, auth, errors, middleware."""
