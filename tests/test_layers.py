"""The two top-level modules the import-linter contracts cannot name (it takes packages
only): config.py imports nothing of ours, and nothing of ours imports server.py."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("routes", "schema", "resolvers", "services", "models", "mail", "payments")
OURS = {"server", "config", *PACKAGES}


def imported_modules(path: Path) -> set[str]:
    """Every top-level name a module imports, wherever the import stands."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_config_imports_nothing_of_ours() -> None:
    assert imported_modules(ROOT / "config.py") & OURS == set()


def test_nothing_of_ours_imports_server() -> None:
    importers = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "server" in imported_modules(path)
    ]
    assert importers == []


def test_the_checks_see_imports() -> None:
    """The walk finds imports inside functions too, so the two tests above can fail."""
    assert "config" in imported_modules(ROOT / "server.py")
    assert "mail" in imported_modules(ROOT / "services" / "notifications" / "notices.py")
