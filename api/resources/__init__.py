"""API version 1: one package per area, each with routes.py and schemas.py."""
