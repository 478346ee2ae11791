"""The Firebase app's Firestore data as it really is: its layout, its drift, and a seeder.

docs/migration/legacy-firestore.md is the reference; `layout` holds the names and id rules
code shares, `seed` writes a deterministic dataset with drift into Firestore (the emulator).
"""
