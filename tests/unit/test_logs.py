from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from api import context
from app import logs


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_production_logs_are_json_lines_with_the_request_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure("INFO", json=True)
    token = context.request_id.set("req-42")
    try:
        logging.getLogger("api.test").warning("auth.unavailable", extra={"detail": "x"})
    finally:
        context.request_id.reset(token)

    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["severity"] == "WARNING"
    assert line["message"] == "auth.unavailable"
    assert line["request_id"] == "req-42"
    assert line["detail"] == "x"


def test_laptop_logs_are_text(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("INFO", json=False)
    logging.getLogger("api.test").info("hello")

    assert "INFO api.test [-] hello" in capsys.readouterr().err
