"""Subscription filters in Pub/Sub's filter language, from the event types a consumer acts on."""

from __future__ import annotations

import pytest

from domain.events import EventType
from events.pubsub import MAX_FILTER_BYTES, subscription_filter


def test_a_filter_names_each_type_once_in_a_stable_order() -> None:
    found = subscription_filter(
        [EventType.FOCUS_SESSION_COMPLETED, EventType.BLOCKLIST_CREATED] * 2
    )
    assert found == (
        'attributes.event_type = "blocklist.created"'
        ' OR attributes.event_type = "focus_session.completed"'
    )


def test_no_type_is_no_filter_rather_than_one_that_lets_everything_through() -> None:
    with pytest.raises(ValueError, match="at least one"):
        subscription_filter([])


def test_a_filter_longer_than_pub_sub_takes_is_refused_here_not_at_deploy() -> None:
    with pytest.raises(ValueError, match=str(MAX_FILTER_BYTES)):
        subscription_filter(EventType)
