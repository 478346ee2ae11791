"""The types /v1/sync sends only on request are the domain's opt-in types, no more, no less:
a type added to one and not the other would be sent to apps that cannot read it, or never."""

from __future__ import annotations

from api.resources.sync.schemas import OptInType
from domain.sync.model import OPT_IN, EntityType


def test_the_include_parameter_names_exactly_the_opt_in_types() -> None:
    assert {EntityType(t.value) for t in OptInType} == OPT_IN


def test_every_type_an_older_app_reads_is_sent_without_asking() -> None:
    assert set(EntityType) - OPT_IN == {
        EntityType.PROFILE, EntityType.DEVICE, EntityType.BLOCKLIST, EntityType.SCHEDULE,
        EntityType.FOCUS_SESSION, EntityType.USAGE_REPORT,
    }  # fmt: skip
