"""Delayed jobs: the handler registry, the in-process worker of the Postgres queue, and the
Cloud Tasks scheduler of production."""
