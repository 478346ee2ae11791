"""Blocklist use cases on the in-memory unit of work: rules, caps, versions, references."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from uuid import UUID

import pytest

from domain.blocklists import use_cases
from domain.blocklists.model import (
    MAX_BLOCKLISTS_PER_USER,
    MAX_ITEMS_PER_BLOCKLIST,
    BlockItem,
    Blocklist,
    BlocklistChanges,
    BlocklistDraft,
    ItemKind,
)
from domain.common import PageRequest
from domain.errors import Conflict, LimitExceeded, NotFound, PreconditionFailed, ValidationFailed
from domain.schedules import use_cases as schedules
from domain.schedules.model import ScheduleDraft, Weekday
from tests.unit.fakes.unit_of_work import FakeUnitOfWork

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TOKEN = base64.b64encode(b"\x01" * 64).decode()

INVALID_ITEMS = [
    *[("ios_token", v, "invalid_ios_token") for v in ("not base64!", "QUJD\n", "QUJ", "ab-_")],
    ("ios_token", base64.b64encode(b"x" * 4097).decode(), "ios_token_too_large"),
    ("ios_token", "A" * 10_000, "ios_token_too_large"),
    *[
        ("android_package", v, "invalid_android_package")
        for v in ("instagram", "com.1password.app", "com..example", "com.a-b", "a." + "b" * 254)
    ],
    *[
        ("web_domain", v, "invalid_web_domain")
        for v in (
            *("https://example.com", "example.com/feed", "example.com:443", "localhost"),
            *("192.168.0.1", "-bad.example.com", "under_score.com", "xn--zz.com"),
            *("example.com.", ("a" * 63 + ".") * 4 + "com"),
        )
    ],
    ("category", "gambling", "unknown_category"),
]

pytestmark = pytest.mark.anyio


def clock() -> datetime:
    return NOW


def item(kind: str, value: str) -> BlockItem:
    return BlockItem(ItemKind(kind), value)


async def create(uow: FakeUnitOfWork, user: str = "alice", *items: BlockItem) -> Blocklist:
    async with uow:
        created = await use_cases.create_blocklist(
            uow, user, BlocklistDraft("Social", items), clock=clock
        )
        await uow.commit()
    return created


async def refusal(uow: FakeUnitOfWork, *items: BlockItem) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refused:
        await create(uow, "alice", *items)
    return refused.value


async def test_a_created_blocklist_is_stored_with_the_users_next_version() -> None:
    uow = FakeUnitOfWork()

    created = await create(uow, "alice", item("web_domain", "example.com"))

    assert created.version == 1
    assert (created.created_at, created.updated_at) == (NOW, NOW)
    assert await uow.blocklists.get("alice", created.id) == created
    assert uow.commits == 1


async def test_items_are_normalised_and_duplicates_dropped_keeping_the_first() -> None:
    uow = FakeUnitOfWork()

    created = await create(
        uow,
        "alice",
        item("web_domain", "News.Example.COM"),
        item("android_package", "com.instagram.android"),
        item("web_domain", "news.example.com"),
        item("web_domain", "Bücher.de"),
        item("category", "games"),
        item("android_package", "com.instagram.android"),
    )

    assert created.items == (
        item("web_domain", "news.example.com"),
        item("android_package", "com.instagram.android"),
        item("web_domain", "xn--bcher-kva.de"),
        item("category", "games"),
    )


@pytest.mark.parametrize(("kind", "value", "code"), INVALID_ITEMS)
async def test_an_invalid_item_is_refused_naming_its_value(
    kind: str, value: str, code: str
) -> None:
    refused = await refusal(FakeUnitOfWork(), item("category", "social"), item(kind, value))

    assert [(p.field, p.code) for p in refused.problems] == [("items.1.value", code)]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("ios_token", TOKEN),
        ("ios_token", base64.b64encode(b"x" * 4096).decode()),
        ("android_package", "com.instagram.android"),
        ("android_package", "org.telegram.messenger_web"),
        ("web_domain", "m.youtube.com"),
        ("web_domain", "xn--bcher-kva.de"),
        ("category", "productivity"),
    ],
)
async def test_a_valid_item_is_accepted(kind: str, value: str) -> None:
    created = await create(FakeUnitOfWork(), "alice", item(kind, value))

    assert created.items == (item(kind, value),)


async def test_every_invalid_item_is_reported_at_once() -> None:
    refused = await refusal(
        FakeUnitOfWork(),
        item("web_domain", "ok.example.com"),
        item("web_domain", "nope"),
        item("category", "social"),
        item("category", "sports"),
    )

    assert [(p.field, p.code) for p in refused.problems] == [
        ("items.1.value", "invalid_web_domain"),
        ("items.3.value", "unknown_category"),
    ]


async def test_a_blank_name_is_refused() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(ValidationFailed) as refused:
        async with uow:
            await use_cases.create_blocklist(uow, "alice", BlocklistDraft("   "), clock=clock)

    assert refused.value.problems[0].field == "name"
    assert refused.value.problems[0].code == "invalid_name"


async def test_more_than_500_distinct_items_are_refused_but_duplicates_do_not_count() -> None:
    domains = [item("web_domain", f"site{n}.example.com") for n in range(MAX_ITEMS_PER_BLOCKLIST)]

    with pytest.raises(LimitExceeded) as refused:
        await create(FakeUnitOfWork(), "alice", *domains, item("category", "news"))
    kept = await create(FakeUnitOfWork(), "alice", *domains, *domains[:100])

    assert refused.value.code == "too_many_blocklist_items"
    assert len(kept.items) == MAX_ITEMS_PER_BLOCKLIST


async def test_the_51st_blocklist_is_refused_until_one_is_deleted() -> None:
    uow = FakeUnitOfWork()
    first = await create(uow)
    for _ in range(MAX_BLOCKLISTS_PER_USER - 1):
        await create(uow)

    with pytest.raises(LimitExceeded) as refused:
        await create(uow)
    async with uow:
        await use_cases.delete_blocklist(uow, "alice", first.id, expected_version=None, clock=clock)
        await uow.commit()
    await create(uow)

    assert refused.value.code == "too_many_blocklists"
    assert await uow.blocklists.count("alice") == MAX_BLOCKLISTS_PER_USER
    assert await create(uow, "bob")  # the cap is per user


async def update(
    uow: FakeUnitOfWork,
    user: str,
    blocklist_id: UUID,
    expected: int | None = None,
    **values: object,
) -> Blocklist:
    async with uow:
        updated = await use_cases.update_blocklist(
            uow,
            user,
            blocklist_id,
            BlocklistChanges(dict(values)),
            expected_version=expected,
            clock=clock,
        )
        await uow.commit()
    return updated


async def test_an_update_changes_only_the_fields_sent_and_takes_a_new_version() -> None:
    uow = FakeUnitOfWork()
    created = await create(uow, "alice", item("category", "games"))

    renamed = await update(uow, "alice", created.id, expected=created.version, name="Games")

    assert (renamed.name, renamed.items) == ("Games", created.items)
    assert renamed.version > created.version
    assert await uow.blocklists.get("alice", created.id) == renamed


async def test_an_update_that_changes_nothing_keeps_the_version() -> None:
    uow = FakeUnitOfWork()
    created = await create(uow, "alice", item("category", "games"))

    same = await update(uow, "alice", created.id, name="Social", items=[item("category", "games")])

    assert same == created


async def test_an_update_against_a_stale_version_is_refused_and_changes_nothing() -> None:
    uow = FakeUnitOfWork()
    created = await create(uow)
    await update(uow, "alice", created.id, name="Renamed")

    with pytest.raises(PreconditionFailed):
        await update(uow, "alice", created.id, expected=created.version, name="Lost update")

    assert (await uow.blocklists.get("alice", created.id)).name == "Renamed"  # type: ignore[union-attr]


async def test_another_users_blocklist_cannot_be_read_changed_or_deleted() -> None:
    uow = FakeUnitOfWork()
    created = await create(uow, "alice")

    with pytest.raises(NotFound):
        await update(uow, "bob", created.id, name="Mine now")
    async with uow:
        with pytest.raises(NotFound):
            await use_cases.get_blocklist(uow, "bob", created.id)
        with pytest.raises(NotFound):
            await use_cases.delete_blocklist(
                uow, "bob", created.id, expected_version=None, clock=clock
            )

    assert await uow.blocklists.get("alice", created.id) == created


async def test_a_delete_leaves_a_tombstone_with_a_new_version() -> None:
    uow = FakeUnitOfWork()
    created = await create(uow)

    async with uow:
        await use_cases.delete_blocklist(
            uow, "alice", created.id, expected_version=created.version, clock=clock
        )
        await uow.commit()

    assert await uow.blocklists.get("alice", created.id) is None
    tombstone, deleted_at = uow.blocklists.tombstones[("alice", created.id)]
    assert (tombstone.version, deleted_at) == (created.version + 1, NOW)


async def test_a_blocklist_a_schedule_uses_cannot_be_deleted() -> None:
    uow = FakeUnitOfWork()
    created = await create(uow)
    evenings = ScheduleDraft("Evenings", [Weekday.MON], "20:00", "22:00", "UTC", created.id)
    async with uow:
        await schedules.create_schedule(uow, "alice", evenings, clock=clock)
        await uow.commit()

    with pytest.raises(Conflict) as refused:
        async with uow:
            await use_cases.delete_blocklist(
                uow, "alice", created.id, expected_version=None, clock=clock
            )

    assert refused.value.code == "blocklist_in_use"
    assert await uow.blocklists.get("alice", created.id) == created


async def test_pages_follow_each_other_without_duplicates_or_gaps() -> None:
    uow = FakeUnitOfWork()
    made = [(await create(uow)).id for _ in range(7)]
    await create(uow, "bob")

    seen: list[UUID] = []
    after: tuple[str, ...] | None = None
    async with uow:
        while True:
            page = await use_cases.list_blocklists(uow, "alice", PageRequest(3, after))
            seen += [b.id for b in page.items]
            if page.next_after is None:
                break
            after = page.next_after

    assert seen == made


async def test_a_cursor_naming_no_blocklist_position_is_refused() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        with pytest.raises(ValidationFailed) as refused:
            await use_cases.list_blocklists(uow, "alice", PageRequest(3, ("not-an-id",)))

    assert refused.value.problems[0].code == "invalid_cursor"
