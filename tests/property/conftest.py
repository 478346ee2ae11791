"""Operations whose known defects lie outside the property suite's reach, each named with
where the fix belongs. Strict: once fixed, the suite says so and the entry must go."""

from __future__ import annotations

import pytest

KNOWN_DEFECTS = {
    "GET /v1/focus-sessions": "`from`/`to` are typed `date`, which takes `0` as 1970-01-01: "
    "api/resources/focus_sessions/routes.py should type them "
    "api.resources.usage.schemas.LocalDate (YYYY-MM-DD only)",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for operation, reason in KNOWN_DEFECTS.items():
            if item.name.endswith(f"[{operation}]"):
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
