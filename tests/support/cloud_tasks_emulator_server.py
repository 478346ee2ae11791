"""Runs `gcloud-tasks-emulator` with two behaviours of Cloud Tasks it lacks and we rely on.

Started by tests/support/cloud_tasks_emulator.py as `python -m
tests.support.cloud_tasks_emulator_server --port N`. The emulator (0.6) accepts a second task
of a taken name and has no GetTask; Cloud Tasks answers ALREADY_EXISTS to the first and returns
a pending task from the second. Here both behave as in Cloud Tasks, except that a name stays
taken for the emulator's lifetime instead of about an hour.
"""

from __future__ import annotations

import argparse
import logging
import threading
from typing import Any

from gcloud_tasks_emulator import server
from google.api_core.exceptions import AlreadyExists, GoogleAPICallError, NotFound


class _QueueState(server.QueueState):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._names_lock = threading.Lock()
        self._taken: set[str] = set()

    def create_task(self, queue: str, task: Any) -> Any:
        with self._names_lock:  # two creates of one name may arrive on two server threads
            if task.name and task.name in self._taken:
                raise AlreadyExists(f"Requested entity already exists: {task.name}")
            created = super().create_task(queue, task)
            self._taken.add(created.name)
        return created

    def get_task(self, name: str) -> Any:
        queue = name.rsplit("/", 2)[0]
        for task in list(self._queue_tasks.get(queue, ())):
            if task.name == name:
                return task
        raise NotFound(f"Task not found: {name}")  # never created, or already run


class _Servicer(server.Greeter):  # type: ignore[misc]
    def GetTask(self, request: Any, context: Any) -> Any:
        try:
            return self._state.get_task(request.name)
        except GoogleAPICallError as err:
            context.abort(err.grpc_status_code, err.message)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    # The emulator builds its state and servicer from these module names.
    server.QueueState = _QueueState
    server.Greeter = _Servicer
    server.create_server("127.0.0.1", args.port).run()


if __name__ == "__main__":
    main()
