"""What the import-linter contracts of `make lint` cannot say (they take packages, and find
cycles only among the siblings of one folder): no import cycle anywhere in the tree,
config.py imports nothing of ours, and nothing imports server.py. Every import counts,
also one inside a function or under TYPE_CHECKING: a back arrow there is still a back
arrow for the reader."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from config import ROOT

PACKAGES = ("config", "server", "routes", "schema", "resolvers", "services", "models", "mail")
PACKAGES += ("payments",)


def _modules() -> dict[str, Path]:
    found = {}
    for top in PACKAGES:
        single = ROOT / f"{top}.py"
        paths = [single] if single.exists() else sorted((ROOT / top).rglob("*.py"))
        for path in paths:
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imported(name: str, path: Path) -> set[str]:
    """Every module of ours `name` imports, and every outside top-level package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
            targets.add(base)
    ours = set()
    for target in targets:
        module = target
        while module and module not in MODULES:
            module = module.rpartition(".")[0]
        ours.add(module or target.split(".")[0])
    ours.discard(name)
    return ours


GRAPH = {name: _imported(name, path) for name, path in MODULES.items()}


def test_there_is_no_import_cycle() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in GRAPH.get(module, ()):
            if target not in MODULES:
                continue
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while (top := stack.pop()) != module:
                component.append(top)
            if component:
                cycles.append(sorted([module, *component]))

    for module in MODULES:
        if module not in index:
            visit(module)
    assert not cycles, f"import cycles: {cycles}"


def test_config_imports_nothing_of_ours() -> None:
    assert GRAPH["config"] & set(MODULES) == set()


def test_nothing_imports_server() -> None:
    assert sorted(name for name, targets in GRAPH.items() if "server" in targets) == []


def test_the_graph_is_the_whole_tree() -> None:
    """The checks above see every layer (a moved package must not slip out of them)."""
    layers = defaultdict(int)
    for name in MODULES:
        layers[name.split(".")[0]] += 1
    assert set(layers) == set(PACKAGES)
    assert sum(len(targets) for targets in GRAPH.values()) > 300
