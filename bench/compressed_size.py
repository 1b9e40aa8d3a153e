"""Bytes on the wire of the dashboard answer and of GraphiQL's files: plain, gzip, br.

    python bench/compressed_size.py

A fresh SQLite database with the demo (`kabinet migrate`, `kabinet seed-demo`), a real
server (uvicorn, bench.common.served); logged in as ivanova@example.com (two accounts), it
asks for the web client's dashboard (web/js/pages/dashboard.js) and bench/dashboard.py's
query with 12 and 24 items a list (a year, and the demo's two years), and fetches GraphiQL's largest files, each with
`Accept-Encoding: identity`, `gzip` and `br`, and prints the bytes that travelled.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import served  # noqa: E402
from bench.dashboard import QUERY as BENCH_DASHBOARD  # noqa: E402
from services.ops.demo import DEMO_PASSWORD  # noqa: E402
from tests.web.test_web_documents import documents  # noqa: E402

LOGIN = "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }"
CODINGS = ("identity", "gzip", "br")
FILES = (
    "/static/graphiql/vendor/graphiql/graphiql.min.js",
    "/static/graphiql/vendor/graphiql/graphiql.min.css",
    "/static/graphiql/vendor/react-dom/react-dom.production.min.js",
)


def wire_bytes(
    http: httpx.Client, method: str, url: str, coding: str, headers: dict | None = None, **kwargs
) -> int:
    sent = {**(headers or {}), "Accept-Encoding": coding}
    with http.stream(method, url, headers=sent, **kwargs) as response:
        response.raise_for_status()
        assert response.headers.get("content-encoding", "identity") == coding, url
        return sum(len(chunk) for chunk in response.iter_raw())


def main() -> None:
    [web_dashboard] = [d for where, d in documents() if "query Dashboard" in d]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite://{tmp}/size.sqlite3"
        env = {**os.environ, "DATABASE_URL": url, "VAR_DIR": tmp, "SECRET_KEY": "b" * 40}
        for command in ("migrate", "seed-demo"):
            subprocess.run([sys.executable, str(ROOT / "server.py"), command], env=env, check=True)
        with served("server:app_factory", url, tmp) as server:
            base = f"http://127.0.0.1:{server.port}"
            with httpx.Client(base_url=base, timeout=30) as http:
                login = http.post(
                    "/graphql",
                    json={
                        "query": LOGIN,
                        "variables": {"e": "ivanova@example.com", "p": DEMO_PASSWORD},
                    },
                )
                token = login.json()["data"]["login"]["token"]
                auth = {"Authorization": f"Bearer {token}"}
                rows = [
                    ("dashboard (web client)", "POST", "/graphql", {"query": web_dashboard}),
                    *[
                        (
                            f"dashboard (bench/dashboard.py, n={n})",
                            "POST",
                            "/graphql",
                            {"query": BENCH_DASHBOARD, "variables": {"n": n}},
                        )
                        for n in (12, 24)  # a year; the demo's whole history
                    ],
                ]
                print("| answer | plain | gzip | br |")
                print("|---|---:|---:|---:|")
                for name, method, path, body in rows:
                    sizes = [
                        wire_bytes(http, method, path, c, json=body, headers=auth) for c in CODINGS
                    ]
                    print(_row(name, sizes))
                for path in FILES:
                    print(
                        _row(
                            path.rsplit("/", 1)[1],
                            [wire_bytes(http, "GET", path, c) for c in CODINGS],
                        )
                    )


def _row(name: str, sizes: list[int]) -> str:
    plain = sizes[0]
    cells = [f"{plain:,} B"] + [f"{s:,} B ({s / plain:.0%})" for s in sizes[1:]]
    return f"| {name} | " + " | ".join(cells) + " |"


if __name__ == "__main__":
    main()
