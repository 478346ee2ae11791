"""A token's uid is checked whatever signed it: Firebase's own limits, no control characters."""

from __future__ import annotations

import pytest

from api.deps import check_uid
from domain.errors import Unauthenticated


@pytest.mark.parametrize("uid", ["a", "Xy9_-.@+ü", "u" * 128, "with space"])
def test_firebase_shaped_uids_pass(uid: str) -> None:
    assert check_uid(uid) == uid


@pytest.mark.parametrize("uid", ["", "u" * 129, "nul\x00", "line\n", "tab\t", "del\x7f"])
def test_empty_overlong_or_control_character_uids_are_refused(uid: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        check_uid(uid)

    assert refused.value.code == "token_invalid"
