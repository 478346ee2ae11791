"""Silent pushes from events: who gets one, within budget, and what the answers change.

At-least-once end to end: the event handler may run again (a redelivery after a failure), and
each device's outcome is settled on its own: a device whose push for the event's version was
sent and acted on (or left waiting for a slot) is skipped by the next run, so a retry only
redoes the devices that failed. A push the service asks us to retry becomes a named, delayed
task in a durable queue, so a restart loses nothing (unlike push servers that keep retries in
memory).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from domain.common import Clock
from domain.devices import push_tokens
from domain.devices.model import ApnsEnvironment, Device, Platform
from domain.events import DomainEvent
from domain.push.model import PushKind, PushOutcome, PushResult, SilentPush
from domain.push.policy import PushPolicy, push_kind, recipients, silent_push, still_holding
from domain.push.ports import PushBudgets, PushSender
from domain.tasks import Task, TaskScheduler
from domain.unit_of_work import UnitOfWork
from notifications import metrics

log = logging.getLogger("notifications.fanout")
tracer = trace.get_tracer(__name__)

DELIVER_TASK = "push.deliver"
DEVICES_AT_ONCE = 4


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)

    def delay(self, attempt: int, retry_after_seconds: float | None) -> timedelta:
        """Exponential with full jitter, never sooner than the service's Retry-After."""
        backoff = min(self.cap, self.base * 2**attempt)
        jittered = timedelta(seconds=random.uniform(0, backoff.total_seconds()))  # noqa: S311
        floor = timedelta(seconds=retry_after_seconds or 0)
        return max(floor, jittered, timedelta(seconds=1))


class SilentPushes:
    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        senders: Mapping[Platform, PushSender],
        budgets: PushBudgets,
        scheduler: TaskScheduler,
        *,
        clock: Clock,
        policy: PushPolicy | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._senders = senders
        self._budgets = budgets
        self._scheduler = scheduler
        self._clock = clock
        self._policy = policy or PushPolicy()
        self._retry = retry or RetryPolicy()

    async def on_event(self, event: DomainEvent) -> None:
        """The `notifications` subscription: wake the user's other devices."""
        kind = push_kind(event.type)
        if kind is None:
            return
        async with self._unit_of_work() as uow:
            targets = await _held(uow, recipients(event, await uow.devices.list(event.user_id)))
        # A few at a time: each takes a database connection for its budget while the event's
        # own (processed_events) is held, and a user may have 20 devices.
        limit = asyncio.Semaphore(DEVICES_AT_ONCE)

        async def offer(device: Device) -> bool:
            async with limit:
                return await self._offer(device, kind, event.record_version)

        # Every device runs to its end whatever another one does: a failure neither cancels
        # the others nor leaves their writes landing after the consumer gave up on the event.
        outcomes = await asyncio.gather(*(offer(d) for d in targets), return_exceptions=True)
        settled = [
            d.installation_id for d, done in zip(targets, outcomes, strict=True) if done is True
        ]
        await self._budgets.settle(event.user_id, settled, event.record_version)
        failures = [error for error in outcomes if isinstance(error, BaseException)]
        for error in failures[1:]:
            log.error("notifications.push.failed", exc_info=error)
        if failures:
            raise failures[0]

    async def run_task(self, payload: Mapping[str, Any]) -> None:
        """`push.deliver`: a delayed push (budget) or a retry the service asked for."""
        device = await self._device(str(payload["user_id"]), str(payload["installation_id"]))
        if device is None or device.push_token is None:
            return  # removed, or its token was forgotten meanwhile: nothing to wake
        if "version" in payload:  # a retry: its budget slot was taken when first sent
            kind = PushKind(payload.get("kind", PushKind.SYNC))
            await self._send(device, kind, int(payload["version"]), int(payload["attempt"]))
            return
        await self._offer(device, PushKind.SYNC, None)

    async def _offer(self, device: Device, kind: PushKind, version: int | None) -> bool:
        """True when this offer sent a push or left one waiting (False: nothing to do)."""
        now = self._clock()
        decision = await self._budgets.take(device.user_id, device.installation_id, now, version)
        if decision.send_version is None and decision.send_at is None:
            return False  # nothing waits, or the device was settled for this version already
        if decision.send_version is not None:
            # A push that waited stands for several changes: a plain sync covers them all.
            sent_kind = kind if decision.send_version == version else PushKind.SYNC
            await self._send(device, sent_kind, decision.send_version, attempt=0)
        elif decision.send_at is not None:
            metrics.DEFERRED.inc()
            # One task per device and slot: a burst folds into a single delayed push, which
            # sends the highest version waiting when it runs.
            name = f"push-{_device_key(device)}-{int(decision.send_at.timestamp())}"
            await self._scheduler.schedule(
                Task(DELIVER_TASK, _device_ids(device), decision.send_at, name=name)
            )
        return True

    async def _send(self, device: Device, kind: PushKind, version: int, attempt: int) -> None:
        push = silent_push(device, kind, version, self._clock(), self._policy)
        result = await self._deliver(push)
        if result.outcome is PushOutcome.BAD_TOKEN and device.platform is Platform.IOS:
            result = await self._try_other_environment(device, push)
        match result.outcome:
            case PushOutcome.UNREGISTERED | PushOutcome.BAD_TOKEN:
                await self._forget(device, result.unregistered_at)
            case PushOutcome.RETRY_LATER:
                await self._retry_later(device, kind, version, attempt, result)
            case PushOutcome.REJECTED:
                log.error(
                    "notifications.push.rejected",
                    extra={"platform": device.platform.value, "reason": result.reason},
                )
            case PushOutcome.DELIVERED:
                pass

    async def _deliver(self, push: SilentPush) -> PushResult:
        with tracer.start_as_current_span(
            f"push {push.platform.value}",
            kind=SpanKind.CLIENT,
            attributes={"focus.push.platform": push.platform.value},
        ) as span:
            result = await self._senders[push.platform].send(push)
            span.set_attributes(
                {
                    "focus.push.outcome": result.outcome.value,
                    "focus.push.reason": result.reason or "",
                    "http.response.status_code": result.status or 0,
                }
            )
        metrics.PUSHES.labels(push.platform.value, result.outcome.value, result.reason or "").inc()
        return result

    async def _try_other_environment(self, device: Device, push: SilentPush) -> PushResult:
        """`BadDeviceToken` often means a sandbox token sent to production (or the reverse):
        try the other host once before calling the token bad."""
        other = (
            ApnsEnvironment.SANDBOX
            if push.apns_environment is ApnsEnvironment.PRODUCTION
            else ApnsEnvironment.PRODUCTION
        )
        result = await self._deliver(replace(push, apns_environment=other))
        if result.outcome is PushOutcome.DELIVERED:
            async with self._unit_of_work() as uow:
                await push_tokens.move_to_apns_environment(
                    uow, device.user_id, device.installation_id, push.token, other,
                    clock=self._clock,
                )  # fmt: skip
                await uow.commit()
        return result

    async def _forget(self, device: Device, unregistered_at: datetime | None) -> None:
        assert device.push_token is not None
        async with self._unit_of_work() as uow:
            forgotten = await push_tokens.forget_push_token(
                uow, device.user_id, device.installation_id, device.push_token,
                unregistered_at=unregistered_at, clock=self._clock,
            )  # fmt: skip
            await uow.commit()
        if forgotten:
            metrics.TOKENS_FORGOTTEN.labels(device.platform.value).inc()
            log.info(
                "notifications.push.token_deactivated",
                extra={
                    "platform": device.platform.value,
                    "installation_id": device.installation_id,
                },
            )

    async def _retry_later(
        self, device: Device, kind: PushKind, version: int, attempt: int, result: PushResult
    ) -> None:
        if attempt + 1 >= self._retry.max_attempts:
            log.warning(
                "notifications.push.gave_up",
                extra={"platform": device.platform.value, "reason": result.reason},
            )
            return  # the device's next sync (app opened, next push) still brings it up to date
        metrics.RETRIES.labels(device.platform.value).inc()
        run_at = self._clock() + self._retry.delay(attempt, result.retry_after_seconds)
        payload = {
            **_device_ids(device),
            "kind": kind.value,
            "version": version,
            "attempt": attempt + 1,
        }
        name = f"push-retry-{_device_key(device)}-{version}-{attempt + 1}"
        await self._scheduler.schedule(Task(DELIVER_TASK, payload, run_at, name=name))

    async def _device(self, user_id: str, installation_id: str) -> Device | None:
        async with self._unit_of_work() as uow:
            device = await uow.devices.get(user_id, installation_id)
            if device is None or device.push_token is None:
                return device
            return next(iter(await _held(uow, [device])), None)


async def _held(uow: UnitOfWork, devices: list[Device]) -> list[Device]:
    """The devices that still hold their tokens: none is pushed for a user it left."""
    if not devices:
        return devices
    holders = await uow.devices.holding([d.push_token for d in devices if d.push_token])
    return [device for device in devices if still_holding(device, holders)]


def _device_ids(device: Device) -> dict[str, Any]:
    return {"user_id": device.user_id, "installation_id": device.installation_id}


def _device_key(device: Device) -> str:
    """A task-name-safe key of the device (Cloud Tasks names allow `[A-Za-z0-9_-]`)."""
    raw = f"{device.user_id}/{device.installation_id}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]
