"""Wiring: settings → adapters → the API. Nothing else constructs a client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import sqlalchemy.exc
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from api.config import ApiConfig, Deprecation
from api.services import ApiServices
from app.settings import AuthMode, EventsTransport, Settings, check
from datastore.postgres.engine import create_engine
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.common import Clock, utc_now
from domain.events import EventPublisher
from domain.identity import TokenVerifier
from domain.unit_of_work import UnitOfWork
from events.in_process import InProcessPublisher
from events.relay import OutboxRelay
from events.runner import relay_until

# Connection-level failures: the server went away, the pool ran dry. Not bugs: 503, retry.
STORE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
)


def token_verifier(settings: Settings) -> TokenVerifier:
    match settings.auth_mode:
        case AuthMode.FIREBASE:
            from identity.firebase import FirebaseTokenVerifier

            assert settings.firebase_project_id is not None  # check() guarantees it
            return FirebaseTokenVerifier(settings.firebase_project_id)
        case AuthMode.DEV:
            from identity.dev_issuer import DevTokenIssuer, load_or_create_secret

            return DevTokenIssuer(load_or_create_secret(settings.dev_secret_path))


def event_publisher(settings: Settings, handlers: InProcessPublisher) -> EventPublisher:
    match settings.events_transport:
        case EventsTransport.PUBSUB:
            from events.pubsub import PubSubPublisher

            assert settings.firebase_project_id is not None  # check() guarantees it
            return PubSubPublisher(settings.firebase_project_id, settings.pubsub_topic)
        case EventsTransport.IN_PROCESS:
            return handlers


def api_config(settings: Settings) -> ApiConfig:
    minimums = {
        platform: version
        for platform, version in (
            ("ios", settings.min_app_version_ios),
            ("android", settings.min_app_version_android),
        )
        if version
    }
    return ApiConfig(
        max_body_bytes=settings.max_body_bytes,
        min_app_versions=minimums,
        upgrade_urls={"ios": settings.upgrade_url_ios, "android": settings.upgrade_url_android},
        deprecations=tuple(Deprecation(**rule.model_dump()) for rule in settings.deprecations),
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


def build(settings: Settings, database_url: str, *, clock: Clock = utc_now) -> Container:
    check(settings)
    engine = create_engine(database_url, pool_size=settings.db_pool_size)

    def unit_of_work() -> UnitOfWork:
        return PostgresUnitOfWork(engine)

    async def check_ready() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    services = ApiServices(
        config=api_config(settings),
        verifier=token_verifier(settings),
        unit_of_work=unit_of_work,
        clock=clock,
        check_ready=check_ready,
        unavailable=STORE_UNAVAILABLE,
    )
    handlers = InProcessPublisher()
    relay = OutboxRelay(unit_of_work, event_publisher(settings, handlers), clock=clock)
    return Container(settings, engine, services, handlers, relay)


def build_app(container: Container) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        relaying = None
        if container.settings.runs_relay_in_process:
            relaying = asyncio.create_task(relay_until(stop, container.relay))
        try:
            yield
        finally:
            stop.set()
            if relaying is not None:
                await relaying
            await container.engine.dispose()

    return create_app(container.services, lifespan=lifespan)
