"""`focus privacy`: compliance staff's commands for data-subject requests (export, erasure).

Staff open a request received by email, support or post, verify the subject's identity,
approve an erasure (a second staff member), refuse, cancel or extend one, and watch the
statutory clock. Every command that changes a request names the staff member (`--by`), who
appears in the audit trail. Output names the subject only by the prefix of its keyed hash,
never by uid. Domain refusals are usage errors (stderr, exit 2); exit 1 means the command ran
and found something wrong (a step failed, the scan is missing, the audit chain is broken).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, TypeVar
from uuid import UUID

import typer

from app.cli.common import fail, with_container
from app.cli.privacy_views import (
    HASH_PREFIX,
    clock,
    console,
    day,
    echo_json,
    request_json,
    show,
    table,
)
from domain.errors import DomainError, ValidationFailed
from domain.privacy import model
from domain.privacy.model import SUBJECT, Channel, RequestKind, RequestState, Verification
from domain.privacy.ports import RequestFilter
from domain.privacy.steps import SCAN, Step, StepState

if TYPE_CHECKING:
    from app.bootstrap import Container
    from domain.privacy.model import PrivacyRequest

T = TypeVar("T")

privacy = typer.Typer(
    help="Data-subject requests (GDPR export and erasure), for compliance staff.",
    no_args_is_help=True,
)

_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
_RESERVED_ACTORS = frozenset({SUBJECT, "system"})
"""What the audit trail calls the subject and the runner: never a staff member's id."""
_LIST_LIMIT = 1000


class StaffChannel(StrEnum):  # the app's own channel is the subject's
    EMAIL, SUPPORT, POST = Channel.EMAIL.value, Channel.SUPPORT.value, Channel.POST.value


def _name(value: str, what: str) -> str:
    if not _NAME.fullmatch(value):
        raise fail(f"{what} is 1-64 characters of letters, digits and . _ @ -")
    return value


def _staff(value: str) -> str:
    if value in _RESERVED_ACTORS:
        raise fail(f"--by {value!r} is reserved for the audit trail; give your staff id")
    return _name(value, "--by (your staff id)")


By = Annotated[
    str,
    typer.Option("--by", callback=_staff, help="Your staff id (email local part, employee id)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="One JSON document.")]
RequestId = Annotated[UUID, typer.Argument(metavar="ID", help="The request's id.")]
Reason = Annotated[str, typer.Option(help="Why (kept in the audit trail, told to the subject).")]


def _on(job: Callable[[Container], Awaitable[T]]) -> T:
    """Runs `job` on the process's adapters; a domain refusal becomes a usage error."""

    async def guarded(container: Container) -> T:
        if not container.settings.privacy_requests:
            raise fail("this process takes no privacy requests (FOCUS_PRIVACY_REQUESTS)")
        return await job(container)

    try:
        return with_container(guarded)
    except ValidationFailed as exc:
        raise fail("; ".join(f"{p.field}: {p.message}" for p in exc.problems) or str(exc)) from exc
    except DomainError as exc:
        raise fail(exc.detail or exc.code) from exc


# --- Commands -----------------------------------------------------------------------------


@privacy.command("request")
def privacy_request(
    kind: Annotated[RequestKind, typer.Option(help="export (Art. 15/20) or erasure (Art. 17).")],
    uid: Annotated[str, typer.Option(help="The subject's user id (Firebase uid).")],
    channel: Annotated[StaffChannel, typer.Option(help="How the request reached us.")],
    by: By,
    received: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="The day it was received (default: now)."),
    ] = None,
    verified_by: Annotated[
        str | None,
        typer.Option(help="Identity verified on receipt by METHOD (e.g. email_reply)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Open a request on a subject's behalf, or join their open one of the same kind."""
    if not 1 <= len(uid) <= 128 or not uid.isprintable():
        raise fail("--uid is 1-128 printable characters")
    method = _name(verified_by, "--verified-by") if verified_by is not None else None
    received_at = received.replace(tzinfo=UTC) if received is not None else None

    async def job(container: Container) -> tuple[PrivacyRequest, bool, datetime]:
        now = container.services.clock()
        # Verified on receipt: the clock was never paused (the later instant would pause it).
        verified_at = received_at or now
        verification = Verification(method, by, verified_at) if method is not None else None
        opened = await container.privacy.open(
            kind, uid, by=by, channel=Channel(channel), received_at=received_at,
            verification=verification,
        )  # fmt: skip
        return opened.request, opened.joined, now

    request, joined, now = _on(job)
    said = "joined the open request" if joined else "opened request"
    show(request, now, as_json, f"{said} {request.id}", joined=joined)


def _transition(
    change: Callable[[Container], Awaitable[PrivacyRequest]], as_json: bool, verb: str
) -> None:
    async def job(container: Container) -> tuple[PrivacyRequest, datetime]:
        changed = await change(container)
        return changed, container.services.clock()

    request, now = _on(job)
    show(request, now, as_json, f"{verb} {request.id}: {request.state.value}")


@privacy.command("verify")
def privacy_verify(
    request_id: RequestId,
    method: Annotated[str, typer.Option(help="How identity was checked (e.g. id_document).")],
    by: By,
    as_json: AsJson = False,
) -> None:
    """Record that the subject's identity was verified: the clock runs again."""
    checked = _name(method, "--method")
    _transition(lambda c: c.privacy.verify(request_id, checked, by=by), as_json, "verified")


@privacy.command("approve")
def privacy_approve(request_id: RequestId, by: By, as_json: AsJson = False) -> None:
    """Approve an erasure staff opened (not its author); it then runs on the task queue."""
    _transition(lambda c: c.privacy.approve(request_id, by=by), as_json, "approved")


@privacy.command("refuse")
def privacy_refuse(request_id: RequestId, reason: Reason, by: By, as_json: AsJson = False) -> None:
    """Refuse a request (manifestly unfounded or excessive), saying why."""
    _transition(lambda c: c.privacy.refuse(request_id, reason, by=by), as_json, "refused")


@privacy.command("cancel")
def privacy_cancel(request_id: RequestId, reason: Reason, by: By, as_json: AsJson = False) -> None:
    """Cancel a request (the subject withdrew it), saying why."""
    _transition(lambda c: c.privacy.cancel(request_id, reason, by=by), as_json, "cancelled")


@privacy.command("extend")
def privacy_extend(
    request_id: RequestId,
    months: Annotated[int, typer.Option(help="Months added to the deadline (2 at most in all).")],
    reason: Reason,
    by: By,
    as_json: AsJson = False,
) -> None:
    """Extend the deadline (complex or numerous requests), saying why."""
    _transition(lambda c: c.privacy.extend(request_id, months, reason, by=by), as_json, "extended")


async def _with_steps(
    container: Container, request_id: UUID
) -> tuple[PrivacyRequest, Sequence[Step], datetime]:
    request = await container.privacy.get(request_id)
    steps = await container.privacy.steps(request_id)
    return request, steps, container.services.clock()


@privacy.command("status")
def privacy_status(request_id: RequestId, as_json: AsJson = False) -> None:
    """A request, its clock and its steps."""
    request, steps, now = _on(lambda c: _with_steps(c, request_id))
    show(request, now, as_json, steps=steps)


@privacy.command("list")
def privacy_list(
    kind: Annotated[RequestKind | None, typer.Option(help="Only this kind.")] = None,
    state: Annotated[RequestState | None, typer.Option(help="Only this state.")] = None,
    only_open: Annotated[bool, typer.Option("--open", help="Only requests not finished.")] = False,
    as_json: AsJson = False,
) -> None:
    """Requests by due date, with days left; AT RISK and OVERDUE marked."""
    if state is not None and only_open and not state.open:
        raise fail(f"--open lists no {state.value} requests")
    open_states = [s for s in RequestState if s.open] if only_open else []
    states = [state] if state is not None else open_states
    where = RequestFilter(kinds=[kind] if kind else [], states=states, limit=_LIST_LIMIT)

    async def job(container: Container) -> tuple[Sequence[PrivacyRequest], datetime]:
        return await container.privacy.find(where), container.services.clock()

    found, now = _on(job)
    ordered = sorted(found, key=lambda r: r.due_at(now))
    clocks = [clock(r, now) for r in ordered]
    by_state = {s.value: n for s in RequestState if (n := sum(r.state is s for r in ordered))}
    counts = {
        "total": len(ordered),
        "by_state": by_state,
        "at_risk": sum(c["marker"] == "AT RISK" for c in clocks),
        "overdue": sum(c["overdue"] for c in clocks),
        "limited": len(found) == _LIST_LIMIT,
    }
    if as_json:
        echo_json({"requests": [request_json(r, now) for r in ordered], "counts": counts})
        return
    columns = ("id", "kind", "state", "subject", "received", "due", "days left", "")
    rows = [(r.id, r.kind, r.state, r.subject_hash[:HASH_PREFIX], day(r.received_at),
             day(c["due_at"]), c["days_left"], c["marker"])
            for r, c in zip(ordered, clocks, strict=True)]  # fmt: skip
    states_said = ", ".join(f"{n} {s}" for s, n in by_state.items()) or "none"
    limited = f" (only the {_LIST_LIMIT} received first: filter)" if counts["limited"] else ""
    console().print(table(columns, rows))
    typer.echo(f"{len(ordered)} request(s): {states_said}; {counts['at_risk']} at risk,"
               f" {counts['overdue']} overdue{limited}")  # fmt: skip


@privacy.command("run")
def privacy_run(request_id: RequestId, as_json: AsJson = False) -> None:
    """Run a request's remaining steps now, in this process (resume a stuck request).

    Exit 1 when a step fails (recorded on it; the task queue retries it too)."""

    async def job(container: Container) -> tuple[PrivacyRequest, Sequence[Step], datetime, str]:
        request = await container.privacy.get(request_id)
        if request.state is not RequestState.COMPLETED:
            model.start(request)  # refuses a request not ready to run, saying what it needs
        failure = ""
        try:
            await container.privacy_runner.run_all(request_id)
        except DomainError:
            raise
        except Exception as exc:  # recorded on its step by the runner; shown below
            failure = type(exc).__name__
        return (*await _with_steps(container, request_id), failure)

    request, steps, now, failure = _on(job)
    show(request, now, as_json, steps=steps)
    if failure:
        failed = next((s.name for s in steps if s.state is StepState.PENDING), "a step")
        typer.secho(f"step {failed} failed: {failure}; run again later", err=True, fg="red")
        raise typer.Exit(code=1)


@privacy.command("scan")
def privacy_scan(request_id: RequestId, as_json: AsJson = False) -> None:
    """The verification scan of an erasure: what each store still holds of the subject."""
    request, steps, _ = _on(lambda c: _with_steps(c, request_id))
    if request.kind is not RequestKind.ERASURE:
        raise fail(f"only an erasure has a verification scan ({request.id} is an export)")
    scan = next(s for s in steps if s.name == SCAN)
    ran = scan.state is StepState.DONE
    if as_json:
        echo_json({"request_id": request.id, "state": request.state, "scan": scan})
    elif ran:
        found = table(("kind of data", "records found"), sorted((scan.detail or {}).items()))
        typer.echo(f"verification scan of {request.id}")
        console().print(found)
        verdict = "clean: nothing of the subject found" if not scan.count else "NOT CLEAN"
        typer.echo(f"{scan.count or 0} record(s) found: {verdict}")
    if not ran:
        tried = f", tried {scan.attempts} time(s), last {scan.error}" if scan.attempts else ""
        typer.secho(f"the scan has not completed (request {request.state}{tried})", err=True)
        raise typer.Exit(code=1)


@privacy.command("audit-check")
def privacy_audit_check(as_json: AsJson = False) -> None:
    """Check the audit trail's hash chain; exit 1 naming the first broken entry."""
    broken = _on(lambda c: c.privacy.audit_trail_intact())
    if as_json:
        echo_json({"intact": broken is None, "first_broken": broken})
    elif broken is None:
        typer.echo("audit trail intact")
    else:
        typer.echo(f"audit trail broken at entry {broken} (counting from 0 in the order written)")
    if broken is not None:
        raise typer.Exit(code=1)


@privacy.command("reapply-erasures")
def privacy_reapply_erasures(as_json: AsJson = False) -> None:
    """After a database restore: erase again every account whose erasure the bucket remembers
    (run it before the API serves). Each is refused at once and erased by a new request."""

    async def job(container: Container) -> tuple[int, int, list[str]]:
        found = await container.privacy_restores.reapply()
        for request_id in found.erased_again:
            await container.privacy_runner.run_all(UUID(request_id))
        return found.marks, found.scanned, found.erased_again

    marks, scanned, again = _on(job)
    if as_json:
        echo_json({"marks": marks, "accounts_scanned": scanned, "erased_again": again})
        return
    typer.echo(f"{marks} erasure(s) remembered, {scanned} account(s) scanned")
    for request_id in again:
        typer.echo(f"erased again by request {request_id}")
    if not again:
        typer.echo("nothing to erase again")
