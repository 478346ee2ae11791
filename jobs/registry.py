"""Which handler runs which kind of task. One registry serves the in-process worker and the
`/internal/tasks/{kind}` endpoint Cloud Tasks calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.tasks import TaskHandler, UnknownTaskKind

__all__ = ["TaskHandlers", "UnknownTaskKind"]


class TaskHandlers:
    def __init__(self) -> None:
        self._handlers: dict[str, TaskHandler] = {}

    def register(self, kind: str, handler: TaskHandler) -> None:
        """One handler per kind: a second registration is a wiring mistake, refused."""
        if kind in self._handlers:
            raise ValueError(f"a handler for task kind {kind!r} is already registered")
        self._handlers[kind] = handler

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._handlers)

    async def run(self, kind: str, payload: Mapping[str, Any]) -> None:
        try:
            handler = self._handlers[kind]
        except KeyError:
            raise UnknownTaskKind(kind) from None
        await handler(payload)
