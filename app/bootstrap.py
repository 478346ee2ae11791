"""Wiring: settings → adapters → the API. Nothing else constructs a client."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy.exc
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from api.services import AiConsents, ApiServices
from app.ai_wiring import AI_CONSUMER, Ai, Hosted, build_ai
from app.api_wiring import api_config, internal_verifier, protections, token_verifier
from app.delivery_wiring import event_publisher, push_senders, task_scheduler
from app.growth_wiring import build_growth
from app.privacy_wiring import build_privacy
from app.settings import Settings, check
from app.staff_wiring import staff_services
from app.tracing import Tracing
from app.tracing import start as start_tracing
from datastore.postgres.consumer_log import PostgresFailedMessages, PostgresProcessedEvents
from datastore.postgres.engine import create_engine
from datastore.postgres.housekeeping import PostgresHousekeeping
from datastore.postgres.push_budgets import PostgresPushBudgets
from datastore.postgres.task_queue import PostgresTaskQueue
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.common import Clock, utc_now
from domain.devices.model import Platform
from domain.errors import NotFound
from domain.push.budget import BudgetPolicy
from domain.push.ports import PushSender
from domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from events.consumer import EventConsumer
from events.in_process import InProcessPublisher
from events.redelivery import REDELIVER_TASK, Redeliveries
from events.relay import OutboxRelay
from events.runner import relay_until
from jobs.housekeeping import PURGE_TASK, Maintenance
from jobs.registry import TaskHandlers, UnknownTaskKind
from jobs.worker import TaskWorker
from notifications.fanout import DELIVER_TASK, SilentPushes

if TYPE_CHECKING:
    from domain.files import FileStore
    from exports.runner import GrowthExporter
    from migration.wiring import Migration
    from privacy.requests import PrivacyRequests
    from privacy.restore import Restores
    from privacy.runner import PrivacyRunner
    from privacy.watch import PrivacyWatch

log = logging.getLogger("app.bootstrap")

NOTIFICATIONS = "notifications"
"""The subscription that sends silent pushes (Pub/Sub push to /internal/pubsub/notifications)."""

# Connection-level failures: the server went away, the pool ran dry. Not bugs: 503, retry.
STORE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
)


@dataclass
class Container:
    """The wired adapters of one process."""

    settings: Settings
    engine: AsyncEngine
    services: ApiServices
    handlers: InProcessPublisher
    """Consumers in this process subscribe here (used when events stay in-process)."""
    relay: OutboxRelay
    consumer: EventConsumer
    """The subscriptions this process consumes (Pub/Sub push, or in-process)."""
    task_handlers: TaskHandlers
    task_queue: PostgresTaskQueue
    task_worker: TaskWorker
    pushes: SilentPushes
    maintenance: Maintenance
    senders: Mapping[Platform, PushSender]
    privacy: PrivacyRequests
    privacy_runner: PrivacyRunner
    privacy_watch: PrivacyWatch
    privacy_restores: Restores
    files: FileStore
    growth: GrowthExporter | None
    """Growth exports, where this process has the growth bucket (ADR 0020)."""
    ai: Ai
    migration: Migration | None = None
    """Set when the Firebase app's Firestore still holds data (FOCUS_LEGACY_FIRESTORE)."""
    tracing: Tracing | None = None
    """Set when this process traces (FOCUS_TRACING): the app and the engine are instrumented."""

    async def start(self, *, repair_mirrors: bool | None = None) -> None:
        """What must run before this process serves: the migration's phases (and, per
        settings or `repair_mirrors`, the repair of pending Firestore mirrors)."""
        if self.migration is not None:
            repair = repair_mirrors
            if repair is None:
                repair = self.settings.runs_mirror_repair_in_process
            await self.migration.start(repair=repair)

    async def aclose(self) -> None:
        if self.migration is not None:
            await self.migration.stop()
        for sender in self.senders.values():
            await sender.aclose()
        await self.ai.aclose()
        if (limiter := self.services.protections.rate_limiter) is not None:
            await limiter.aclose()
        await self.engine.dispose()
        if self.tracing is not None:
            self.tracing.close()


def build(
    settings: Settings,
    database_url: str,
    *,
    clock: Clock = utc_now,
    senders: Mapping[Platform, PushSender] | None = None,
    hosted_ai: Hosted | None = None,
    tracing: Tracing | None = None,
) -> Container:
    """`tracing` replaces what FOCUS_TRACING says (a test's in-memory exporter)."""
    check(settings)
    tracing = tracing if tracing is not None else start_tracing(settings)
    if tracing is not None:  # before any client or engine is made
        tracing.instrument_clients()
    engine = create_engine(
        database_url,
        pool_size=settings.db_pool_size,
        cursor_factory=tracing.cursor_factory() if tracing is not None else None,
    )
    migration: Migration | None = None
    unavailable = STORE_UNAVAILABLE
    if settings.legacy_firestore:
        # Imported only here: the Firestore migration is one removable part of the product.
        from google.cloud.firestore import AsyncClient

        from migration.wiring import FIRESTORE_UNAVAILABLE, MigrationConfig, build_migration

        config = MigrationConfig(
            firestore_timeout_seconds=settings.firestore_timeout_seconds,
            shadow_read_rate=settings.shadow_read_rate,
            consumer_max_attempts=settings.consumer_max_attempts,
        )
        client = AsyncClient(project=settings.firebase_project_id)
        migration = build_migration(config, engine, client, database_url, clock)
        unavailable += FIRESTORE_UNAVAILABLE

    def postgres_unit_of_work(*, origin_installation_id: str | None = None) -> UnitOfWork:
        return PostgresUnitOfWork(engine, origin_installation_id=origin_installation_id)

    unit_of_work: UnitOfWorkFactory = (
        postgres_unit_of_work if migration is None else migration.unit_of_work
    )

    async def check_ready() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    task_queue = PostgresTaskQueue(engine, clock=clock)
    task_handlers = TaskHandlers()
    senders = senders if senders is not None else push_senders(settings, clock)
    budgets = PostgresPushBudgets(engine, BudgetPolicy(limit=settings.push_budget_per_hour))
    scheduler = task_scheduler(settings, task_queue)
    pushes = SilentPushes(unit_of_work, senders, budgets, scheduler, clock=clock)
    task_handlers.register(DELIVER_TASK, pushes.run_task)
    maintenance = Maintenance(PostgresHousekeeping(engine, task_queue), scheduler, clock=clock)
    task_handlers.register(PURGE_TASK, maintenance.purge)
    ai = build_ai(settings, engine, unit_of_work, scheduler, clock, hosted=hosted_ai)
    ai.register(task_handlers)
    consumer = EventConsumer(
        {NOTIFICATIONS: pushes.on_event, AI_CONSUMER: ai.hooks.on_event},
        PostgresProcessedEvents(engine),
        PostgresFailedMessages(engine),
        clock=clock,
        max_attempts=settings.consumer_max_attempts,
        redeliveries=Redeliveries(scheduler, clock=clock),
    )
    task_handlers.register(REDELIVER_TASK, consumer.redeliver)
    privacy = build_privacy(settings, engine, scheduler, clock, migration, postgres_unit_of_work)
    privacy.register(task_handlers)
    growth = build_growth(settings, engine, clock)
    services = ApiServices(
        config=api_config(settings),
        verifier=token_verifier(settings),
        unit_of_work=unit_of_work,
        clock=clock,
        check_ready=check_ready,
        unavailable=unavailable,
        events=consumer,
        legacy_sync=migration.legacy_sync if migration else None,
        tasks=_KnownTasks(task_handlers),
        internal_verifier=internal_verifier(settings),
        protections=protections(settings),
        privacy=privacy.requests if settings.privacy_requests else None,
        local_files=privacy.local_files,
        staff=staff_services(settings, engine, privacy),
        ai=AiConsents(ai.terms, ai.results.consents),
    )
    handlers = InProcessPublisher()
    handlers.subscribe_all(consumer.consume_everywhere)
    # The outbox is Postgres's in every phase: the relay needs no routing.
    relay = OutboxRelay(postgres_unit_of_work, event_publisher(settings, handlers), clock=clock)
    worker = TaskWorker(task_queue, task_handlers, clock=clock)
    return Container(
        settings, engine, services, handlers, relay, consumer, task_handlers, task_queue,
        worker, pushes, maintenance, senders, privacy.requests, privacy.runner, privacy.watch,
        privacy.restores, privacy.files, growth, ai, migration, tracing,
    )  # fmt: skip


def freeze_startup_heap() -> None:
    """What is built before serving (modules, the app, its schemas and pools' objects) lives as
    long as the process: collected once, then frozen out of the cyclic collector's sight.

    Under concurrent load some objects of requests in flight survive into the oldest
    generation, and each full collection then walked the whole startup heap: about 90 ms every
    thousand requests, a read's p99 tripled and a tenth of its CPU (bench/README.md, "The
    collector"). Frozen objects are still freed by reference counting; only cycles among them
    would stay, and `gc.collect()` first leaves none behind.
    """
    gc.collect()
    gc.freeze()


def build_app(container: Container) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await container.start()
        stop = asyncio.Event()
        loops = []
        if container.settings.runs_relay_in_process:
            loops.append(asyncio.create_task(relay_until(stop, container.relay)))
        if container.settings.runs_task_worker_in_process:
            await _start_maintenance(container)
            loops.append(asyncio.create_task(container.task_worker.run_until(stop)))
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*loops)
            await container.aclose()

    tracing = container.tracing
    return create_app(
        container.services,
        lifespan=lifespan,
        tracer_provider=tracing.provider if tracing is not None else None,
        untraced=tracing.untraced if tracing is not None else None,
    )


async def _start_maintenance(container: Container) -> None:
    """Schedules the hourly purge (named by its hour: a no-op when already scheduled)."""
    try:
        await container.maintenance.schedule_next()
        await container.privacy_watch.schedule_next()
    except STORE_UNAVAILABLE:
        log.exception("maintenance.not_scheduled")  # the API still serves; the next start will


class _KnownTasks:
    """Task handlers as the API sees them: an unknown kind is a 404."""

    def __init__(self, handlers: TaskHandlers) -> None:
        self._handlers = handlers

    async def run(self, kind: str, payload: Mapping[str, Any]) -> None:
        try:
            await self._handlers.run(kind, payload)
        except UnknownTaskKind as error:
            raise NotFound(code="unknown_task_kind", detail=kind) from error
