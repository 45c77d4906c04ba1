"""The layout ARCHITECTURE.md describes, checked: no import cycle inside `app`, demo data out of
the services and routers, packages that own a domain say what they own, and a repository that
points nowhere outside itself."""

import ast
import subprocess
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in APP.rglob("*.py") if "static" not in path.parts}


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The modules of `app` an import statement loads: for `from a.b import c`, `a.b.c` when it
    is a module, else `a.b`."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    found = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        found.append(candidate if candidate in MODULES else base)
    return found


def import_graph() -> "nx.DiGraph[str]":
    """Every import, at the top of a module or inside a function: a lazy import still closes
    a cycle, it only hides it until run time."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    for module, path in MODULES.items():
        graph.add_node(module)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _imported(node, module, path.name == "__init__.py"):
                    if target in MODULES and target != module:
                        graph.add_edge(module, target)
    return graph


def test_the_graph_sees_known_imports():
    graph = import_graph()
    assert graph.has_edge("app.routers.initiatives", "app.services.initiatives")
    assert graph.has_edge("app.services.lifecycle", "app.services.expertise.guards")
    assert graph.has_edge("app.cli", "app.main")  # a lazy import, inside a function


def test_no_import_cycles():
    cycles = [sorted(c) for c in nx.strongly_connected_components(import_graph()) if len(c) > 1]
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize("layer", ["app.services", "app.routers", "app.models", "app.schemas"])
def test_demo_data_is_imported_by_the_cli_only(layer):
    graph = import_graph()
    offenders = [
        (module, target)
        for module, target in graph.edges
        if module.startswith(layer) and target.startswith("app.demo")
    ]
    assert not offenders


def test_domain_packages_say_what_they_own():
    """A package of `app/services` is a domain: its `__init__` names its modules and loads
    none of them (so importing one module never drags in the rest, nor a cycle)."""
    for init in (APP / "services").glob("*/__init__.py"):
        source = init.read_text(encoding="utf-8")
        tree = ast.parse(source)
        docstring = ast.get_docstring(tree) or ""
        modules = [p.stem for p in init.parent.glob("*.py") if p.stem != "__init__"]
        missing = [m for m in modules if f"`{m}`" not in docstring]
        assert not missing, f"{init.parent.name}/__init__.py does not describe {missing}"
        assert not [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]


# Spelled in two halves so that this file does not name them itself.
OUTSIDE = ("../" + "shared", "DESIGN" + ".md")


def test_the_repository_points_nowhere_outside_itself():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = []
    for name in tracked:
        path = ROOT / name
        if path.suffix not in {".py", ".md", ".toml", ".yml", ".ini", ".cfg", ""}:
            continue
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if any(name in text for name in OUTSIDE):
            offenders.append(name)
    assert not offenders
