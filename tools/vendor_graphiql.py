"""Vendor GraphiQL into web/graphiql/vendor/ (`make graphiql`), so the page never needs a CDN.

    python tools/vendor_graphiql.py          # fetch the pinned versions, rewrite vendor/
    python tools/vendor_graphiql.py --check  # the files still match MANIFEST.json

`npm pack` fetches each package's tarball from the npm registry and checks it against the
registry's integrity hash; from it we copy only the browser bundles the page loads and the
package's licence, byte for byte, and write MANIFEST.json: every package's version, tarball
URL and integrity, and every file's size and sha256. To move to another version, change
PACKAGES below (or `make graphiql GRAPHIQL_VERSION=... REACT_VERSION=...`), run it, try
GraphiQL in a browser (`make run`, tests/web/test_graphiql.py) and commit the result.

Pinned: GraphiQL 3.x is the last line that ships a UMD bundle (4.x deprecated it, 5.x is ESM
with Monaco, which needs web workers from blob: URLs); React 18 is the last React with UMD
builds, and 18.3.1 the last of 18. UMD files are plain scripts: the page loads them from
our own origin under `script-src 'self'`, no import map, no inline script, no eval.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "web" / "graphiql" / "vendor"
MANIFEST = VENDOR / "MANIFEST.json"

GRAPHIQL_VERSION = os.environ.get("GRAPHIQL_VERSION", "3.8.3")
REACT_VERSION = os.environ.get("REACT_VERSION", "18.3.1")

# package -> (version, {path in the tarball: name in vendor/<package>/})
PACKAGES: dict[str, tuple[str, dict[str, str]]] = {
    "react": (
        REACT_VERSION,
        {"umd/react.production.min.js": "react.production.min.js", "LICENSE": "LICENSE"},
    ),
    "react-dom": (
        REACT_VERSION,
        {"umd/react-dom.production.min.js": "react-dom.production.min.js", "LICENSE": "LICENSE"},
    ),
    "graphiql": (
        GRAPHIQL_VERSION,
        {
            "graphiql.min.js": "graphiql.min.js",
            "graphiql.min.css": "graphiql.min.css",
            "LICENSE": "LICENSE",
        },
    ),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bundled(script: Path) -> list[str]:
    """The npm packages a webpack bundle carries inside (for a licence review: GraphiQL's
    bundle holds CodeMirror 5, graphql-js, markdown-it, Radix UI... not as files of ours)."""
    found = re.findall(r"node_modules/((?:@[\w.-]+/)?[\w.-]+)/", script.read_text())
    return sorted(set(found))


def npm_pack(spec: str, into: Path) -> dict:
    """`npm pack SPEC` into `into`; returns npm's description (filename, integrity...)."""
    done = subprocess.run(  # noqa: S603 - our own pinned package names
        ["npm", "pack", spec, "--json", "--pack-destination", str(into)],  # noqa: S607 - npm from PATH
        cwd=into,
        check=True,
        capture_output=True,
        text=True,
    )
    [packed] = json.loads(done.stdout)
    return packed


def view(spec: str, field: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own pinned package names
        ["npm", "view", spec, field, "--json"],  # noqa: S607 - npm from PATH
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


def update() -> None:
    manifest: dict = {
        "generated_by": "make graphiql (tools/vendor_graphiql.py)",
        "packages": {},
    }
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        fresh = work / "vendor"
        for name, (version, files) in PACKAGES.items():
            spec = f"{name}@{version}"
            print(f"npm pack {spec}", file=sys.stderr)
            packed = npm_pack(spec, work)
            unpacked = work / name
            with tarfile.open(work / packed["filename"]) as tar:
                tar.extractall(unpacked, filter="data")
            target = fresh / name
            target.mkdir(parents=True)
            entry: dict = {
                "version": packed["version"],
                "license": view(spec, "license"),
                "tarball": view(spec, "dist.tarball"),
                "integrity": packed["integrity"],
                "files": {},
            }
            for source, copied in files.items():
                shutil.copyfile(unpacked / "package" / source, target / copied)
                entry["files"][copied] = {
                    "from": source,
                    "bytes": (target / copied).stat().st_size,
                    "sha256": sha256(target / copied),
                }
            if name == "graphiql":
                entry["bundles"] = bundled(target / "graphiql.min.js")
            manifest["packages"][name] = entry
        (fresh / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if VENDOR.exists():
            shutil.rmtree(VENDOR)
        shutil.copytree(fresh, VENDOR)
    print(f"wrote {VENDOR.relative_to(ROOT)}", file=sys.stderr)


def problems() -> list[str]:
    """What differs between vendor/ and MANIFEST.json (nothing: an empty list)."""
    manifest = json.loads(MANIFEST.read_text())
    found: list[str] = []
    listed = {MANIFEST}
    for name, entry in manifest["packages"].items():
        for copied, expected in entry["files"].items():
            path = VENDOR / name / copied
            listed.add(path)
            if not path.is_file():
                found.append(f"{path}: missing")
            elif sha256(path) != expected["sha256"]:
                found.append(f"{path}: sha256 differs from MANIFEST.json")
    extra = [p for p in VENDOR.rglob("*") if p.is_file() and p not in listed]
    found += [f"{p}: not in MANIFEST.json" for p in extra]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify the vendored files")
    if parser.parse_args().check:
        found = problems()
        print("\n".join(found) or "vendored GraphiQL matches MANIFEST.json", file=sys.stderr)
        return 1 if found else 0
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main())
