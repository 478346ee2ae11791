"""Rendering the console's pages: Jinja2 templates (autoescaped), the security headers every
console response carries, and the refusal page (403 and friends) as an exception the routes
raise and `install` turns into HTML."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

HERE = Path(__file__).parent
PREFIX = "/console"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}

_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def short(request_id: object) -> str:
    """How pages name a request or staff id: its last 8 hex digits, the random part (a
    UUIDv7's first digits are its time and repeat across requests of the same weeks)."""
    return str(request_id)[-8:]


_templates.filters["short"] = short


def secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def page(template: str, status: int = 200, /, **context: Any) -> Response:
    for name in ("member", "error"):
        context.setdefault(name, None)
    context.setdefault("may_operate", False)
    context.setdefault("here", "")
    context.setdefault("prefix", PREFIX)
    html = _templates.get_template(template).render(**context)
    return secured(HTMLResponse(html, status_code=status))


def see_other(path: str) -> Response:
    """POST-redirect-GET: a path of the console, never with personal data in it."""
    return secured(RedirectResponse(f"{PREFIX}{path}", status_code=303))


def stylesheet() -> Response:
    css = (HERE / "static" / "console.css").read_bytes()
    return secured(Response(css, media_type="text/css"))


@dataclass
class ConsoleRefusal(Exception):
    """A page that refuses: why, in words without personal data, and its status."""

    status: int
    title: str
    message: str


async def _refusal_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleRefusal)
    return page("refused.html", exc.status, title=exc.title, message=exc.message)


not_found = APIRouter(prefix=PREFIX, include_in_schema=False)


@not_found.api_route("/{rest:path}", methods=["GET", "POST"])
async def _no_such_page(rest: str) -> Response:
    """Any other path under the console: its own 404 page (no hint of what exists)."""
    raise ConsoleRefusal(404, "Not found", "There is no such page in the console.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ConsoleRefusal, _refusal_page)
