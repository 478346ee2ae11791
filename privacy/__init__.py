"""Data-subject requests (GDPR access, portability, erasure): their use cases, the runner of
their steps across every store, and the export archive. Domain rules are in `domain/privacy/`."""
