"""The `focus` command: serve, database migrations, dev tokens, the OpenAPI spec."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from app import logs
from app.cli_legacy import legacy
from app.cli_migrate import migrate
from app.settings import ConfigurationError, Environment, Settings, check

if TYPE_CHECKING:
    from app.bootstrap import Container

T = TypeVar("T")
log = logging.getLogger("app.cli")

cli = typer.Typer(help="The Focus backend.", no_args_is_help=True, add_completion=False)
db = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
dev = typer.Typer(help="Local development helpers (refused in production).", no_args_is_help=True)
openapi = typer.Typer(help="The committed OpenAPI spec.", no_args_is_help=True)
events = typer.Typer(help="The event outbox and its consumers.", no_args_is_help=True)
tasks = typer.Typer(help="Delayed jobs (the Postgres queue).", no_args_is_help=True)
cli.add_typer(db, name="db")
cli.add_typer(dev, name="dev")
cli.add_typer(openapi, name="openapi")
cli.add_typer(events, name="events")
cli.add_typer(tasks, name="tasks")
cli.add_typer(legacy, name="legacy")
cli.add_typer(migrate, name="migrate")

SPEC_DIR = Path("openapi")


def _settings() -> Settings:
    settings = Settings()
    logs.configure(settings.log_level, json=settings.log_json)
    return settings


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg="red")
    return typer.Exit(code=2)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    migrate: Annotated[
        bool | None,
        typer.Option(help="Migrate the schema first (default: only for the embedded database)."),
    ] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Serve the API. Without DATABASE_URL it runs on an embedded PostgreSQL under ./.focus/.

    Ctrl-C or SIGTERM stops it, and the embedded PostgreSQL with it.
    """
    import uvicorn

    from app.bootstrap import build, build_app
    from app.database import database
    from datastore.postgres.migrate import upgrade

    settings = _settings()
    try:
        check(settings)  # before an embedded server is started for nothing
    except ConfigurationError as exc:
        raise _fail(str(exc)) from exc
    with _stopped_by_signals(), database(settings) as url:
        if migrate if migrate is not None else settings.database_url is None:
            upgrade(url)
        try:
            app = build_app(build(settings, url))
        except ConfigurationError as exc:
            raise _fail(str(exc)) from exc
        if settings.metrics_port is not None:
            from prometheus_client import start_http_server

            # Its own port: Cloud Run routes only the service port from outside.
            start_http_server(settings.metrics_port, addr=host)
        uvicorn.run(app, host=host, port=port, access_log=access_log, proxy_headers=True)


class _Signalled(BaseException):
    """Like KeyboardInterrupt, not an Exception: no `except Exception` on the way swallows it."""


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """SIGTERM (Cloud Run, systemd, the tests) and SIGINT (Ctrl-C) end the block through its
    `finally`s, and the process exits 0.

    uvicorn handles both while it serves, then raises the signal again for the handler it
    found: the default one of SIGTERM would end the process before anything it started stops.
    """

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Signalled(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except _Signalled as signalled:
        log.info("serve.stopped", extra={"signal": signal.Signals(signalled.args[0]).name})
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@db.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from app.database import database_url
    from datastore.postgres.migrate import upgrade

    upgrade(database_url(_settings()), revision)
    typer.echo(f"database at {revision}")


@db.command("current")
def db_current() -> None:
    """Print the database's migration revision and the newest one the code knows."""
    from app.database import database_url
    from datastore.postgres.migrate import current, head

    typer.echo(f"current: {current(database_url(_settings())) or 'empty'}\nhead: {head()}")


@dev.command("token")
def dev_token(
    uid: Annotated[str, typer.Option(help="The user id the token is for.")],
    ttl_days: Annotated[int, typer.Option(min=1, max=365)] = 30,
    anonymous: Annotated[bool, typer.Option(help="Issue it as for an anonymous user.")] = False,
    signed_in_minutes_ago: Annotated[
        int, typer.Option(min=0, help="Its sign-in time (auth_time) this long ago.")
    ] = 0,
) -> None:
    """Print a bearer token the dev server accepts (dev issuer; refused in production)."""
    from identity.dev_issuer import DevTokenIssuer, load_or_create_secret

    settings = _settings()
    if settings.env is Environment.PRODUCTION:
        raise _fail("dev tokens are refused when FOCUS_ENV=production")
    issuer = DevTokenIssuer(load_or_create_secret(settings.dev_secret_path))
    signed_in_at = datetime.now(UTC) - timedelta(minutes=signed_in_minutes_ago)
    token = issuer.issue(
        uid, ttl=timedelta(days=ttl_days), anonymous=anonymous, signed_in_at=signed_in_at
    )
    typer.echo(token)


@openapi.command("export")
def openapi_export(
    out_dir: Annotated[Path, typer.Option(help="Folder of the specs, one per version.")] = SPEC_DIR,
    check: Annotated[bool, typer.Option(help="Fail if a file differs instead of writing.")] = False,
) -> None:
    """Write `openapi/<version>.json` for every served version (or check they are current)."""
    from app.spec import openapi_documents

    for version, document in openapi_documents().items():
        out = out_dir / f"{version}.json"
        text = json.dumps(document, indent=2, sort_keys=True) + "\n"
        if check:
            if not out.exists() or out.read_text() != text:
                raise _fail(f"{out} is out of date: run `make spec` (focus openapi export)")
            typer.echo(f"{out} is up to date")
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        typer.echo(f"wrote {out}")


def _with_container(job: Callable[[Container], Awaitable[T]], *, serve_metrics: bool = False) -> T:
    """Build the process's adapters from settings, run `job` on them, close them.

    `serve_metrics`: a long-running worker serves its metrics on FOCUS_METRICS_PORT.
    """
    import asyncio

    from app.bootstrap import build
    from app.database import database_url

    settings = _settings()
    try:
        container = build(settings, database_url(settings))
    except ConfigurationError as exc:
        raise _fail(str(exc)) from exc
    if serve_metrics and settings.metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port)

    async def run() -> T:
        try:
            await container.start(repair_mirrors=False)
            return await job(container)
        finally:
            await container.aclose()

    return asyncio.run(run())


async def _until_signalled(loop: Callable[[asyncio.Event], Awaitable[None]]) -> int:
    """Run `loop` until Ctrl-C or SIGTERM sets its stop event (it finishes its batch)."""
    stop = asyncio.Event()
    running = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        running.add_signal_handler(sig, stop.set)
    await loop(stop)
    return 0


async def _relay_and_repair(stop: asyncio.Event, container: Container) -> None:
    """The relay worker also repairs pending Firestore mirrors while a migration runs."""
    from events.runner import relay_until

    loops = [relay_until(stop, container.relay)]
    if container.migration is not None:
        loops.append(container.migration.mirroring.run_until(stop))
    await asyncio.gather(*loops)


@events.command("relay")
def events_relay(
    once: Annotated[bool, typer.Option(help="Publish what is pending, then exit.")] = False,
) -> None:
    """Publish outbox events (to Pub/Sub in production) until stopped with Ctrl-C or SIGTERM.

    While the Firestore migration runs (FOCUS_LEGACY_FIRESTORE), also repair pending mirrors.
    """

    async def job(container: Container) -> int:
        if once:
            return await container.relay.drain()
        return await _until_signalled(lambda stop: _relay_and_repair(stop, container))

    published = _with_container(job, serve_metrics=not once)
    if once:
        typer.echo(f"published {published} event(s)")


@events.command("replay")
def events_replay(
    subscription: Annotated[
        str | None, typer.Option(help="Only this subscription's failures (default: all).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many messages.")] = 1000,
) -> None:
    """Run messages that consumers gave up on (poison, or out of attempts) again.

    Each one that now succeeds is marked replayed; the others stay for a later replay.
    Exits non-zero when some still fail.
    """
    report = _with_container(lambda container: container.consumer.replay(subscription, limit))
    typer.echo(
        f"replayed {report.replayed}, still failing {report.still_failing},"
        f" skipped {report.skipped} (no such subscription here)"
    )
    if report.still_failing:
        raise typer.Exit(code=1)


@tasks.command("work")
def tasks_work(
    once: Annotated[bool, typer.Option(help="Run what is due, then exit.")] = False,
) -> None:
    """Run due delayed jobs until stopped (Ctrl-C or SIGTERM)."""

    async def job(container: Container) -> int:
        if once:
            return await container.task_worker.drain()
        return await _until_signalled(container.task_worker.run_until)

    ran = _with_container(job, serve_metrics=not once)
    if once:
        typer.echo(f"ran {ran} task(s)")


def main() -> None:
    cli()
