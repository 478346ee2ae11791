"""Logging: JSON lines for Cloud Logging in production, readable text on a laptop.

Every record carries the request id of the request it was logged in (`X-Request-Id`) and, in
a span, the trace and span ids in the fields Cloud Logging joins to Cloud Trace.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from api import context
from app import tracing

TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.request_id.get() or "-"
        return True


class _TraceIds(logging.Filter):
    def __init__(self, project_id: str | None) -> None:
        super().__init__()
        self._project_id = project_id

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.update(tracing.log_fields(self._project_id))
        return True


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time of the record, not the stream of the day
    `configure` ran: a command run in-process (a test's CLI runner) swaps and closes its own."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass  # always the current sys.stderr


def configure(level: str, *, json: bool, project_id: str | None = None) -> None:
    """`project_id` names the traces of the log fields (`projects/<id>/traces/<trace id>`)."""
    handler = _Stderr()
    handler.addFilter(_RequestId())
    handler.addFilter(_TraceIds(project_id))
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
