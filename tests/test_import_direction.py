"""Dependencies point one way (docs/architecture.md): ``webapp`` → ``itembank`` → ``irt``; inside
``itembank`` every context may use ``bank``, ``bank`` uses no other context, and the contexts'
imports form no circle.  Read from the source with :mod:`ast`; imports under ``if TYPE_CHECKING:``
are annotations only and do not count."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTEXTS = ("bank", "delivery", "authoring", "orgs", "accounts", "paper", "research", "qti", "materials",
            "cli")
SHARED = ("config", "db", "errors", "migrate", "plot_style")  # every context may use these
ORCHESTRATORS = ("demo", "all_models", "migrations")  # put contexts together; only cli uses them


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def imports_of(path: Path) -> set[str]:
    """The absolute names of the modules ``path`` imports at run time."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def sources(top: str) -> list[Path]:
    return sorted((ROOT / top).rglob("*.py"))


def context_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "itembank" or len(parts) < 2:
        return None
    return parts[1]


def context_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {c: set() for c in CONTEXTS}
    for path in sources("itembank"):
        source = context_of(module_name(path))
        if source not in graph:
            continue
        for imported in imports_of(path):
            target = context_of(imported)
            if target in graph and target != source:
                graph[source].add(target)
    return graph


def test_the_contexts_are_the_packages_of_itembank() -> None:
    packages = {p.parent.name for p in (ROOT / "itembank").glob("*/__init__.py")}
    assert packages == set(CONTEXTS)
    modules = {p.stem for p in (ROOT / "itembank").glob("*.py")} - {"__init__"}
    assert modules <= set(SHARED) | set(ORCHESTRATORS)


@pytest.mark.parametrize("path", sources("irt"), ids=lambda p: module_name(p))
def test_irt_is_psychometrics_alone(path: Path) -> None:
    forbidden = ("itembank", "webapp", "flask", "sqlalchemy", "alembic", "werkzeug", "yaml")
    bad = sorted(m for m in imports_of(path) if m.split(".")[0] in forbidden)
    assert not bad, f"{module_name(path)} imports {bad}: irt takes arrays, not files or tables"


@pytest.mark.parametrize("path", sources("itembank"), ids=lambda p: module_name(p))
def test_itembank_does_not_import_the_web(path: Path) -> None:
    if module_name(path) == "itembank.cli.serve":
        return  # ``itembank serve --dev`` starts the web app: the one command that must know it
    bad = sorted(m for m in imports_of(path) if m.split(".")[0] in ("webapp", "flask"))
    assert not bad, f"{module_name(path)} imports {bad}"


@pytest.mark.parametrize("path", sources("itembank"), ids=lambda p: module_name(p))
def test_contexts_use_only_shared_modules_at_the_top(path: Path) -> None:
    source = context_of(module_name(path))
    if source not in CONTEXTS or source == "cli":
        return
    bad = sorted(
        m for m in imports_of(path)
        if context_of(m) in ORCHESTRATORS and m.count(".") == 1
    )
    assert not bad, f"{module_name(path)} imports {bad}: only the cli puts contexts together"


def test_bank_uses_no_other_context() -> None:
    assert context_graph()["bank"] == set()


def test_no_two_contexts_import_each_other_in_a_circle() -> None:
    graph = context_graph()
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycle = path[path.index(nxt):] + [nxt]
                pytest.fail("contexts import each other in a circle: " + " → ".join(cycle))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for context in CONTEXTS:
        if context not in state:
            visit(context, [context])


def test_the_graph_is_read_from_real_imports() -> None:
    # The check above can fail: delivery does use bank and orgs, and cli uses nearly every context.
    graph = context_graph()
    assert {"bank", "orgs"} <= graph["delivery"]
    assert {"bank", "delivery", "orgs", "accounts", "paper", "research", "qti"} <= graph["cli"]


def test_each_context_module_imports_on_its_own() -> None:
    # A module that configures the ORM mappers at import (an ORM option built at module level,
    # say) fails when imported before the other contexts' models: import each in a fresh process.
    import subprocess
    import sys

    modules = ["itembank.delivery.sessions", "itembank.delivery.questionnaire", "itembank.cli"]
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
    for module in modules:
        done = subprocess.run([sys.executable, "-c", code, module], capture_output=True, text=True)
        assert done.returncode == 0, f"import {module}: {done.stderr[-800:]}"
