"""An export from opening to the archive in the staff member's hands: opened and verified in
the browser, run to its end, handed over through "Download the export" (a short-lived link);
the ZIP opens and its manifest holds: every file with its SHA-256, and each kind's file as many
records as its step counted."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import SignIn
from tests.browser.console import (
    Console,
    app_user,
    open_request,
    steps_of,
    verify,
    wait_until,
)


def test_an_export_is_run_and_its_archive_downloaded(
    console: Console, sign_in_as: SignIn, tmp_path: Path
) -> None:
    user = app_user(console)
    operator = sign_in_as("export_operator")
    request_id = open_request(operator, user.uid, "export", channel="post")
    verify(operator, "id_check")
    operator.get_by_role("button", name="Run", exact=True).click()
    console.work_the_queue()
    wait_until(operator, f"/console/requests/{request_id}", "completed")
    counted = {s["Step"]: int(s["Count"]) for s in steps_of(operator) if s["Count"]}

    operator.get_by_role("button", name="Download the export").click()
    expect(operator.get_by_role("heading", level=1)).to_contain_text("download")
    expect(operator.get_by_text("Its issue is recorded in the audit trail")).to_be_visible()
    with operator.expect_download() as download:
        operator.get_by_role("link", name="Download the ZIP archive").click()
    archive = tmp_path / "export.zip"
    download.value.save_as(archive)

    with zipfile.ZipFile(archive) as opened:
        assert opened.testzip() is None
        names = set(opened.namelist())
        manifest = json.loads(opened.read("manifest.json"))
        digests = {name: hashlib.sha256(opened.read(name)).hexdigest() for name in names}
        parts = {
            name.removesuffix(".json"): json.loads(opened.read(name))
            for name in names
            if name.endswith(".json") and name != "manifest.json"
        }
    # A kind's records are a JSON array; a document (derived_stats) is one record.
    records = {kind: len(part) if isinstance(part, list) else 1 for kind, part in parts.items()}
    assert manifest["request"] == request_id
    assert set(manifest["files"]) == names - {"manifest.json"}
    assert {"README.txt", "blocklists.json", "blocklists.csv"} <= names
    for name, digest in manifest["files"].items():
        assert digests[name] == digest, name
    kinds = {kind: count for kind, count in counted.items() if kind in records}
    assert kinds.get("blocklists") == 1
    assert {kind: records[kind] for kind in kinds} == kinds
    assert user.uid not in operator.content()

    operator.goto(f"/console/audit?request={request_id}")
    expect(operator.get_by_role("cell", name="export_link_issued", exact=True)).to_be_visible()
