"""`focus openapi`: the committed spec of every served API version, written or checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import fail

openapi = typer.Typer(help="The committed OpenAPI spec.", no_args_is_help=True)
SPEC_DIR = Path("openapi")


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
                raise fail(f"{out} is out of date: run `make spec` (focus openapi export)")
            typer.echo(f"{out} is up to date")
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        typer.echo(f"wrote {out}")
