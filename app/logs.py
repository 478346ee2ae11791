"""Logging: JSON lines for Cloud Logging in production, readable text on a laptop.

Every record carries the request id of the request it was logged in (`X-Request-Id`).
"""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter

from api import context

TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.request_id.get() or "-"
        return True


def configure(level: str, *, json: bool) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_RequestId())
    if json:
        # Cloud Logging reads `severity` and `message`; everything else lands in jsonPayload.
        handler.setFormatter(
            JsonFormatter(
                "%(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"levelname": "severity"},
                timestamp=True,
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
