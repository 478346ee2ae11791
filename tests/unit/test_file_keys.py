"""File keys (`domain.files.check_key`): relative paths that stay under a store's root, for any
string; and the limit on signed URLs' lifetime."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.files import (
    MAX_KEY_BYTES,
    InvalidFileKey,
    SignedUrlTooLong,
    check_expiry,
    check_key,
)

ROOT = "/srv/focus/files"
SEGMENT = st.text(
    alphabet=st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="/\\"),
    min_size=1,
    max_size=12,
).filter(lambda s: not s.startswith("."))
KEYS = st.lists(SEGMENT, min_size=1, max_size=6).map("/".join)
ANYTHING = st.text(max_size=40)


@pytest.mark.parametrize(
    "key",
    [
        "privacy/exports/0197a1b2-7c3e-7000-8000-000000000000.zip",
        "a",
        "a/b.c/d..e",
        "ünï cødé/+100%.zip",
        "x" * MAX_KEY_BYTES,
    ],
)
def test_relative_keys_are_accepted(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        "",
        "..",
        "../etc/passwd",
        "a/../b",
        "a/..",
        "./a",
        "a/./b",
        ".hidden",
        "a/.tmp/b",
        "/etc/passwd",
        "//host/share",
        "a//b",
        "a/",
        "a\\b",
        "..\\..\\windows",
        "a\x00b",
        "a\nb",
        "a\rb",
        "\ud800",
        "é" * (MAX_KEY_BYTES // 2 + 1),
    ],
)
def test_unsafe_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidFileKey):
        check_key(key)


@pytest.mark.parametrize("prefix", ["", "privacy/", "privacy/exports/", "privacy/exp", "p"])
def test_prefixes_may_be_empty_or_end_in_a_slash_or_a_partial_name(prefix: str) -> None:
    assert check_key(prefix, prefix=True) == prefix


@pytest.mark.parametrize("prefix", ["/", "../", "a//", "/privacy/", "a/../", "\x00"])
def test_unsafe_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(InvalidFileKey):
        check_key(prefix, prefix=True)


@given(KEYS)
def test_an_accepted_key_stays_under_the_root_and_names_itself(key: str) -> None:
    assert check_key(key) == key
    resolved = os.path.normpath(os.path.join(ROOT, key))
    assert resolved.startswith(ROOT + "/")
    assert os.path.relpath(resolved, ROOT) == key


@given(ANYTHING)
def test_any_accepted_string_stays_under_the_root(key: str) -> None:
    try:
        check_key(key)
    except InvalidFileKey:
        return
    resolved = os.path.normpath(os.path.join(ROOT, key))
    assert os.path.relpath(resolved, ROOT) == key
    assert not {"\\", "\x00"} & set(key)


@given(KEYS, KEYS, st.sampled_from(["..", ".", "", "\x00", "\\", "/"]))
def test_a_key_with_an_unsafe_part_is_refused(before: str, after: str, part: str) -> None:
    key = f"{before}/{part}/{after}" if part != "/" else f"/{before}/{after}"
    if part == "\x00" or part == "\\":
        key = before + part + after
    with pytest.raises(InvalidFileKey):
        check_key(key)


@given(KEYS)
def test_a_key_is_a_valid_prefix_with_or_without_a_slash(key: str) -> None:
    assert check_key(key, prefix=True) == key
    assert check_key(key + "/", prefix=True) == key + "/"


@pytest.mark.parametrize("lifetime", [timedelta(seconds=1), timedelta(days=7)])
def test_signed_urls_live_up_to_seven_days(lifetime: timedelta) -> None:
    assert check_expiry(lifetime) == lifetime


@pytest.mark.parametrize(
    "lifetime", [timedelta(days=7, microseconds=1), timedelta(0), timedelta(seconds=-1)]
)
def test_longer_or_empty_lifetimes_are_refused(lifetime: timedelta) -> None:
    with pytest.raises(SignedUrlTooLong):
        check_expiry(lifetime)
