"""The Firestore adapter: the repository ports over the legacy layout.

docs/migration/legacy-firestore.md is its contract.
"""
