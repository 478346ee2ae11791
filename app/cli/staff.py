"""`focus staff`: who may use the compliance console's staff API, and with which roles.

Roles: viewer (reads requests and their audit trail), operator (opens, verifies, refuses,
cancels, extends, runs), approver (approves an erasure a colleague opened), admin (manages
staff, and everything). Every change names who made it (`--by`, a staff id) and is audited in
the privacy audit trail by staff id, never by email. Whoever runs this has the database: the
first admin is added here. Domain refusals are usage errors (stderr, exit 2).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from app.cli.common import fail, settings, with_container
from app.settings import Environment, StaffAuthMode
from datastore.postgres.staff import PostgresStaffDirectory
from domain.errors import DomainError, ValidationFailed
from domain.staff import Role, StaffMember, add_staff, remove_staff

if TYPE_CHECKING:
    from app.bootstrap import Container

T = TypeVar("T")

staff = typer.Typer(help="Compliance staff and their roles.", no_args_is_help=True)

Email = Annotated[str, typer.Argument(metavar="EMAIL", help="Their Google account's email.")]
By = Annotated[str, typer.Option("--by", help="Your staff id (audited).")]


def _on(job: Callable[[PostgresStaffDirectory, Container], Awaitable[T]]) -> T:
    async def run(container: Container) -> T:
        return await job(PostgresStaffDirectory(container.engine), container)

    try:
        return with_container(run)
    except ValidationFailed as exc:
        raise fail("; ".join(f"{p.field}: {p.message}" for p in exc.problems) or str(exc)) from exc
    except DomainError as exc:
        raise fail(exc.detail or exc.code) from exc


def _json(member: StaffMember) -> dict[str, object]:
    return {
        "id": member.id,
        "email": member.email,
        "roles": sorted(member.roles),
        "added_at": member.added_at.isoformat(),
        "added_by": member.added_by,
        "removed_at": member.removed_at.isoformat() if member.removed_at else None,
    }


def _line(member: StaffMember) -> str:
    removed = f"  removed {member.removed_at:%Y-%m-%d}" if member.removed_at else ""
    roles = ",".join(sorted(member.roles))
    return f"{member.id}  {member.email}  {roles}  added {member.added_at:%Y-%m-%d}{removed}"


@staff.command("add")
def staff_add(
    email: Email,
    role: Annotated[list[Role], typer.Option("--role", help="A role (repeat for several).")],
    by: By,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
) -> None:
    """Add a staff member with these roles (a current member is removed first to change them)."""
    member = _on(lambda d, c: add_staff(d, email, role, by=by, at=c.services.clock()))
    typer.echo(json.dumps(_json(member)) if as_json else f"added {_line(member)}")


@staff.command("remove")
def staff_remove(email: Email, by: By) -> None:
    """Remove a staff member: from now on the staff API refuses them (their row stays, so that
    the audit trail's staff ids still say who acted)."""
    member = _on(lambda d, c: remove_staff(d, email, by=by, at=c.services.clock()))
    typer.echo(f"removed {_line(member)}")


@staff.command("list")
def staff_list(
    include_removed: Annotated[bool, typer.Option("--removed", help="Removed ones too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
) -> None:
    """Staff members by email, with their ids and roles."""

    async def job(directory: PostgresStaffDirectory, _: Container) -> list[StaffMember]:
        return list(await directory.members(include_removed=include_removed))

    members = _on(job)
    if as_json:
        typer.echo(json.dumps({"staff": [_json(m) for m in members]}, indent=2))
        return
    for member in members:
        typer.echo(_line(member))
    typer.echo(f"{len(members)} staff member(s)")


@staff.command("token")
def staff_token(
    email: Email,
    ttl_hours: Annotated[int, typer.Option(min=1, max=24 * 7)] = 8,
) -> None:
    """Print a dev staff token for EMAIL, sent as `x-goog-iap-jwt-assertion` where IAP would
    put its own (dev staff identity only; refused in production)."""
    from identity.dev_issuer import load_or_create_secret
    from identity.dev_staff import DevStaffTokens

    configured = settings()
    if configured.env is Environment.PRODUCTION:
        raise fail("dev staff tokens are refused when FOCUS_ENV=production")
    if configured.staff_auth_mode is not StaffAuthMode.DEV:
        raise fail("this deployment's staff API trusts IAP, not dev staff tokens")
    tokens = DevStaffTokens(load_or_create_secret(configured.dev_secret_path))
    try:
        typer.echo(tokens.issue(email, ttl=timedelta(hours=ttl_hours)))
    except ValidationFailed as exc:
        raise fail(exc.detail) from exc
