"""Legacy documents ↔ domain entities, one module per entity (`from_document`, `to_document`).

Every drift rule of docs/migration/legacy-firestore.md is applied in `from_document`; what
must be quarantined raises `Unmappable`. `to_document` writes the canonical layout plus the
fields the backend adds (`_v`, `_writer`).
"""

from migration.firestore.mapping.common import MappingContext, Unmappable

__all__ = ["MappingContext", "Unmappable"]
