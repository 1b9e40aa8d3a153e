"""The GraphQL Foundation's own audit of GraphQL over HTTP (the npm package graphql-http,
`auditServer`), run by node against the real server: every audit passes, the MUSTs and the
SHOULDs and MAYs alike. `make test` installs the audit (`npm ci` in tests/api/http_audit)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from config import ROOT
from tests.processes import free_port, start_kabinet, stop_kabinet, wait_until_ready

AUDIT = ROOT / "tests" / "api" / "http_audit"


@pytest.fixture
def audit_installed() -> None:
    if shutil.which("node") is None:
        pytest.skip("no node on this machine")
    if not (AUDIT / "node_modules" / "graphql-http").is_dir():
        pytest.fail(
            "graphql-http is not installed: make tests/api/http_audit/node_modules/.installed"
        )


async def test_every_graphql_over_http_audit_passes(db, tmp_path, audit_installed) -> None:
    port = free_port()
    server = start_kabinet("serve", "--port", str(port), url=db.url, tmp_path=tmp_path)
    try:
        await wait_until_ready(port, server)
        ran = subprocess.run(
            ["node", "audit.mjs", f"http://127.0.0.1:{port}/graphql"],
            cwd=AUDIT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        _code, err = stop_kabinet(server)
    assert ran.returncode == 0, ran.stderr
    results = json.loads(ran.stdout)
    failed = [f"{r['id']} {r['name']}: {r['reason']}" for r in results if r["status"] != "ok"]
    assert not failed, "\n".join(failed)
    assert len(results) == 61
    assert "Traceback" not in err, err
