"""A read's CPU counted in instructions: ours against the bare app, the same whatever else the
machine does.

`api_read.py` measures throughput, which on a shared two-core machine moves by a third between
rounds of one run. This counts the instructions one read costs, with valgrind's callgrind,
which counts the same for the same work. Each app (`api_read.py`'s `ours`, `trace` and `bare`,
on a scratch database it seeds the same way) runs in its own process under callgrind, called
in process (no server, no sockets of its own): warm-up reads first, uncounted, then `--reads`
reads with counting switched on around them alone (`callgrind_control -i on|off`). `trace` is
ours with tracing on at production's sampling and a `traceparent` on every read, as Cloud Run
sends. Result lines: `RESULT api_read_instructions ratio=<bare/ours>` (above 1 never; 1 would
be no cost over the essential work) and, with `trace`, `RESULT api_read_traced_instructions
ratio=<bare/trace>`.

    .venv/bin/python bench/read_instructions.py [--reads 1000] [--list] [--apps ours,trace,bare]
    .venv/bin/python bench/read_instructions.py --sync [--reads 300] [--apps ours]

`--sync` counts, for each of our apps, a delta sync of 50 changes (`GET /v1/sync`, 50 focus
sessions behind) against the list page of the same 50 sessions: the same records and JSON,
so what the sync costs beyond the list is its own. Last line:
`RESULT api_sync_instructions ratio=<list page/sync page>`.

`--keep DIR` keeps each app's callgrind file (`callgrind_annotate DIR/callgrind.ours`).

Needs valgrind (`apt-get install valgrind`); about a minute per app and 1,000 single reads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from read_apps import HEADERS, USER, app_for, capture_queries, new_traceparent, seed  # noqa: E402
from scratch_db import scratch_database  # noqa: E402

WARMUP = 200
SESSIONS = 500
"""The user's focus sessions, versions 1 to 500 (read_apps.seed)."""


async def read(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> None:
    target, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": target,
        "raw_path": target.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    if sent[0]["status"] != 200:
        raise SystemExit(f"{path} answered {sent[0]['status']}: {sent[1:]}")


async def counted(app: Any, paths: list[str], token: str, reads: int, traced: bool) -> None:
    fixed = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
    fixed += [(b"authorization", f"Bearer {token}".encode()), (b"host", b"bench")]
    rng = random.Random(7)

    def headers() -> list[tuple[bytes, bytes]]:
        if not traced:
            return fixed
        return [*fixed, (b"traceparent", new_traceparent(rng).encode())]

    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put)
    )
    await inbox.put({"type": "lifespan.startup"})
    await outbox.get()
    try:
        for n in range(WARMUP):
            await read(app, paths[n % len(paths)], headers())
        callgrind("on")
        for n in range(reads):
            await read(app, paths[n % len(paths)], headers())
        callgrind("off")
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await lifespan


def callgrind(switch: str) -> None:
    subprocess.run(
        ["callgrind_control", "-i", switch, str(os.getpid())], check=True, capture_output=True
    )


def child(args: argparse.Namespace) -> None:
    """Inside valgrind: build one app, read, count only the reads."""
    spec = json.loads(args.child)
    app = app_for(spec["which"], spec["url"], Path(spec["data_dir"]), 10)
    asyncio.run(counted(app, spec["paths"], spec["token"], spec["reads"], spec["which"] == "trace"))


def instructions(which: str, spec: dict[str, Any], folder: Path) -> int:
    out = folder / f"callgrind.{which}"
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--child",
        json.dumps({**spec, "which": which}),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    totals = re.search(r"^totals: (\d+)", out.read_text(), re.M) if out.exists() else None
    if done.returncode != 0 or totals is None:
        raise SystemExit(f"{which} under callgrind failed:\n{done.stderr[-3000:]}")
    return int(totals[1])


def sync_page(
    apps: list[str], spec_of: Callable[[list[str]], dict[str, Any]], reads: int, data_dir: Path
) -> None:
    """A sync 50 changes behind (the seed's newest 50 sessions) against the list page of the
    same 50 sessions, for each of our apps."""
    from api.pagination import encode_cursor

    behind = encode_cursor((str(SESSIONS - 50),))
    pages = {"list": "/v1/focus-sessions?limit=50", "sync": f"/v1/sync?since={behind}&limit=100"}
    ratio = {}
    for which in apps:
        per = {
            k: instructions(which, spec_of([path]), data_dir) / reads for k, path in pages.items()
        }
        ratio[which] = per["list"] / per["sync"]
        print(
            f"{which:6s} list page {per['list'] / 1e6:6.3f} M, sync of 50"
            f" {per['sync'] / 1e6:6.3f} M instructions; list/sync {ratio[which]:.2f}",
            flush=True,
        )
    print(f"RESULT api_sync_instructions ratio={ratio[apps[0]]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=1000, help="counted reads per app")
    parser.add_argument("--list", action="store_true", help="list pages of 50, not single reads")
    parser.add_argument("--sync", action="store_true", help="a sync of 50 against a list page")
    parser.add_argument("--apps", help="which apps, in order (ours,trace,bare; --sync: ours)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--keep", type=Path, help="keep each app's callgrind file in this folder")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    if args.child:
        child(args)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("needs valgrind and callgrind_control: apt-get install valgrind")

    from identity.dev_issuer import DevTokenIssuer, load_or_create_secret

    apps = (args.apps or ("ours" if args.sync else "ours,trace,bare")).split(",")
    if args.sync and {"bare", "floor"} & set(apps):
        raise SystemExit("--sync counts our apps only (ours, trace): bare and floor have no sync")
    with scratch_database(args.database_url) as url, tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        ids = seed(url, SESSIONS)
        (data_dir / "queries.json").write_text(json.dumps(capture_queries(url, ids[0])))
        token = DevTokenIssuer(load_or_create_secret(data_dir / "dev-token-secret")).issue(USER)

        def spec_of(paths: list[str]) -> dict[str, Any]:
            return {
                "url": url,
                "data_dir": tmp,
                "paths": paths,
                "token": token,
                "reads": args.reads,
            }

        if args.sync:
            sync_page(apps, spec_of, args.reads, data_dir)
            return
        paths = (
            ["/v1/focus-sessions?limit=50"]
            if args.list
            else [f"/v1/focus-sessions/{i}" for i in ids[:200]]
        )
        spec = spec_of(paths)
        per_read = {}
        for which in apps:
            per_read[which] = instructions(which, spec, data_dir) / args.reads
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(data_dir / f"callgrind.{which}", args.keep)
            print(f"{which:6s} {per_read[which] / 1e6:6.3f} M instructions per read", flush=True)
    kind = "list page" if args.list else "single read"
    for which in apps:
        if which != "bare" and "bare" in per_read:
            print(f"{kind}: {which}/bare instructions {per_read[which] / per_read['bare']:.2f}")
    if "ours" in per_read and "trace" in per_read:
        print(f"{kind}: trace/ours instructions {per_read['trace'] / per_read['ours']:.2f}")
    if "ours" in per_read and "bare" in per_read:
        print(f"RESULT api_read_instructions ratio={per_read['bare'] / per_read['ours']:.2f}")
    if "trace" in per_read and "bare" in per_read:
        traced = per_read["bare"] / per_read["trace"]
        print(f"RESULT api_read_traced_instructions ratio={traced:.2f}")


if __name__ == "__main__":
    main()
