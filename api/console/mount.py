"""Mounts the console on the app where the staff services are (the staff API's condition),
with its dev sign-in only where the dev staff verifier issues tokens."""

from __future__ import annotations

from fastapi import FastAPI

from api.console import actions, pages, reports, routes, sign_in
from api.staff.services import StaffServices


def mount_console(app: FastAPI, staff: StaffServices) -> None:
    if staff.console_csrf_key is None:  # the composition root always sets one
        return
    pages.install(app)
    app.include_router(actions.router)  # first: /requests/new is not a request's id
    app.include_router(routes.router)
    app.include_router(reports.router)
    if staff.dev_tokens is not None:
        app.include_router(sign_in.router)
    app.include_router(pages.not_found)  # last: any other path under /console
