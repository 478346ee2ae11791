"""Endpoints Google calls, not the apps: Pub/Sub push deliveries and Cloud Tasks."""
