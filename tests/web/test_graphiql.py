"""GraphiQL served whole from this server (schema/ide.py, web/graphiql/): it works with no
way out to the internet, survives a reload with `?query=` in the address, and keeps the
bearer token out of localStorage. The browser test drives Debian's Chromium
(tests/web/browser.py); the others speak HTTP to the app."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import socket
from urllib.parse import quote

import httpx
import pytest
from playwright.async_api import expect

from config import ROOT
from schema.ide import CONTENT_SECURITY_POLICY
from services.ops.demo import DEMO_PASSWORD
from tests.support import LOGIN
from tools.vendor_graphiql import MANIFEST, VENDOR
from tools.vendor_graphiql import problems as vendor_problems

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ME = "{ me { email } }"
PROBE = """fetch("https://unpkg.com/react@18.3.1/umd/react.production.min.js", {mode: "no-cors"})
  .then(() => "reachable", () => "unreachable")"""


def _editor(page, where: str):
    """The visible CodeMirror editor in GraphiQL's `where` pane."""
    return page.locator(f"{where} .CodeMirror:visible")


async def _set(page, where: str, text: str) -> None:
    """Set an editor's text as typing would (CodeMirror 5's API, no autoclosed braces)."""
    await _editor(page, where).evaluate("(editor, text) => editor.CodeMirror.setValue(text)", text)


# Every host but this machine goes through a proxy that is not there: the CDN, and the
# internet, are unreachable. The port is held (bound, never listening: connections are
# refused) for the whole run, so no server of the suite can come to listen on it.
_NO_PROXY = socket.socket()
_NO_PROXY.bind(("127.0.0.1", 0))
UNREACHABLE = {"server": f"http://127.0.0.1:{_NO_PROXY.getsockname()[1]}", "bypass": "127.0.0.1"}


@pytest.mark.browser
@pytest.mark.browser_context(proxy=UNREACHABLE)
async def test_graphiql_offline_reload_and_token(page, web_server) -> None:
    # Given a browser that can reach this server and nothing else (no CDN, no internet)
    ours = web_server.url + "/"
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    probe = await page.context.new_page()  # its console is not the one the fixture watches
    assert await probe.evaluate(PROBE) == "unreachable"
    await probe.close()
    async with httpx.AsyncClient(base_url=web_server.url) as http:
        login = await http.post(
            "/graphql",
            json={
                "query": LOGIN,
                "variables": {"input": {"email": "ivanova@example.com", "password": DEMO_PASSWORD}},
            },
        )
    token = login.json()["data"]["login"]["token"]
    assert token

    # When a developer opens GraphiQL, writes a query and puts the token in the Headers tab
    await page.goto("/graphql")
    await expect(page.locator(".graphiql-container")).to_be_visible()
    await _set(page, ".graphiql-query-editor", ME)
    await page.get_by_role("button", name="Headers").click()
    await _set(page, ".graphiql-editor-tool", json.dumps({"Authorization": f"Bearer {token}"}))
    # (GraphiQL takes an edit in after a pause; it has when the tab's state holds it)
    await page.wait_for_function(
        "token => (sessionStorage.getItem('graphiql:headers') || '').includes(token)", arg=token
    )
    await page.locator(".graphiql-execute-button").click()

    # Then the query runs as that cabinet, and the document is in the address
    result = page.locator(".graphiql-response")
    await expect(result).to_contain_text("ivanova@example.com")
    assert re.search(r"/graphql\?query=", page.url), page.url
    assert token not in page.url

    # When the page is reloaded (the server gets GET /graphql?query=... from a browser)
    await page.reload()
    await expect(page.locator(".graphiql-container")).to_be_visible()
    await expect(_editor(page, ".graphiql-query-editor")).to_contain_text("me")
    await page.locator(".graphiql-execute-button").click()
    # Then it is GraphiQL again, the token still there for this tab: the query still runs
    await expect(page.locator(".graphiql-response")).to_contain_text("ivanova@example.com")

    # And a link with a document opens it too
    await page.goto("/graphql?query=" + quote("{ version }"))
    await page.locator(".graphiql-execute-button").click()
    await expect(page.locator(".graphiql-response")).to_contain_text('"version"')

    # Its dialogs open under the page's policy too (no inline style they may not have)
    await page.get_by_role("button", name="Open settings dialog").click()
    await expect(page.get_by_role("dialog")).to_contain_text("Persist headers")
    await page.keyboard.press("Escape")
    await page.get_by_role("button", name="Show Documentation Explorer").click()
    await expect(page.locator(".graphiql-doc-explorer")).to_contain_text("Query")

    # The token never reached localStorage; it lives in this tab's sessionStorage only
    local = await page.evaluate("JSON.stringify(Object.entries(window.localStorage))")
    assert token not in local, local
    session = await page.evaluate("JSON.stringify(Object.entries(window.sessionStorage))")
    assert token in session
    # Nothing was asked of any other host (and the page fixture saw no CSP violation)
    assert asked and [url for url in asked if not url.startswith(ours)] == []


async def test_a_browser_gets_the_page_an_api_client_the_result(client) -> None:
    query = quote("{ version }")
    page = await client.get(f"/graphql?query={query}", headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="graphiql"' in page.text
    for accept in (None, "application/json", "application/graphql-response+json", "*/*"):
        headers = {"Accept": accept} if accept else {}
        answer = await client.get(f"/graphql?query={query}", headers=headers)
        assert answer.status_code == 200, accept
        assert "version" in answer.json()["data"], accept
    # a client that names both prefers JSON unless HTML ranks strictly higher
    both = await client.get(
        f"/graphql?query={query}", headers={"Accept": "application/json, text/html"}
    )
    assert "version" in both.json()["data"]


async def test_graphiql_comes_from_this_server_only(client) -> None:
    """No CDN: every script and stylesheet is ours, no inline script, and the policy
    allows nothing else (no 'unsafe-inline', no 'unsafe-eval', no other host)."""
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    [nonce] = re.findall(r'nonce="([^"]+)"', page.text)
    assert policy == CONTENT_SECURITY_POLICY.format(nonce=nonce)
    assert "script-src 'self';" in policy and f"style-src 'self' 'nonce-{nonce}';" in policy
    assert "unsafe" not in policy and "http" not in policy
    again = await client.get("/graphql", headers={"Accept": "text/html"})
    assert nonce not in again.text and nonce not in again.headers["content-security-policy"]
    scripts = re.findall(r'<script[^>]*\bsrc="([^"]+)"', page.text)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    assert scripts and styles
    assert not re.search(r"<script[^>]*>[^<]|<style", page.text), "no inline script or style"
    for url in scripts + styles:
        assert url.startswith("/static/graphiql/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
    assert "Cookies" not in (await client.get("/static/graphiql/start.js")).text
    # the token is kept per tab, never in localStorage
    start = (await client.get("/static/graphiql/start.js")).text
    assert "storage: sessionOnly()" in start and "window.localStorage" not in start


async def test_no_graphiql_files_in_production(settings) -> None:
    from server import create_app

    app = create_app(dataclasses.replace(settings, env="production"), manage_db=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        page = await http.get("/graphql", headers={"Accept": BROWSER_ACCEPT})
        assert page.status_code == 404
        assert (await http.get("/static/graphiql/start.js")).status_code == 404
        assert (await http.get("/static/graphiql/vendor/MANIFEST.json")).status_code == 404
        # a browser's GET with a query still gets the result, as an API client would
        answer = await http.get("/graphql?query=%7Bversion%7D", headers={"Accept": BROWSER_ACCEPT})
        assert "version" in answer.json()["data"]


def test_vendored_files_match_their_manifest() -> None:
    """`make graphiql` wrote them; nobody edited them by hand since (or ran it without
    committing the manifest), and each package's licence travels with it."""
    assert vendor_problems() == []
    manifest = json.loads(MANIFEST.read_text())
    assert set(manifest["packages"]) == {"react", "react-dom", "graphiql"}
    for name, entry in manifest["packages"].items():
        assert (VENDOR / name / "LICENSE").is_file(), name
        assert entry["integrity"].startswith("sha512-") and entry["version"], name
    page = (ROOT / "web" / "graphiql" / "index.html").read_text()
    for name, entry in manifest["packages"].items():
        for file in entry["files"]:
            if file.endswith((".js", ".css")):
                assert f"/static/graphiql/vendor/{name}/{file}" in page, file
    digest = hashlib.sha256((VENDOR / "react" / "LICENSE").read_bytes()).hexdigest()
    assert manifest["packages"]["react"]["files"]["LICENSE"]["sha256"] == digest
