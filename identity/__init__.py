"""Adapters for the `domain.identity.TokenVerifier` port: Firebase Auth and a local dev issuer.

This package may import `domain` and third-party libraries, nothing else of ours.
"""
