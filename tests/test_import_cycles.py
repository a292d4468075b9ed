"""Every module dependency points one way: no import cycle between the project's modules.

Read from the source with `ast`, function-level imports included, so a cycle cannot hide in
an import placed inside a function to dodge it.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "evently",
    "core",
    "accounts",
    "events",
    "bookings",
    "waitlist",
    "notifications",
    "analytics",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                modules[_module_name(path)] = path
    return modules


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `path` imports, anywhere in its body."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from a.b import c` may import the module a.b.c or a name of a.b.
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A list of modules forming a cycle (first == last), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def dependency_graph() -> dict[str, set[str]]:
    modules = project_modules()
    graph = {}
    for name, path in modules.items():
        # A package's __init__ is not a dependency of its own modules.
        graph[name] = {
            m for m in imports_of(path, modules) if m != name and not name.startswith(m + ".")
        }
    return graph


def test_no_module_imports_another_that_imports_it_back():
    cycle = find_cycle(dependency_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import(tmp_path):
    graph = {
        "a.services": {"b.services"},
        "b.services": {"a.selectors"},
        "a.selectors": {"a.services"},
    }
    cycle = find_cycle(graph)
    assert cycle[0] == cycle[-1] and len(cycle) == 4
    assert set(cycle) == {"a.services", "b.services", "a.selectors"}
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from bookings.services import booking_create\n")
    assert imports_of(source, {"bookings.services": source}) == {"bookings.services"}


def test_models_and_selectors_never_import_a_service():
    # views -> services -> selectors -> models: the reads and the tables sit below every write.
    graph = dependency_graph()
    lower = [m for m in graph if m.rsplit(".", 1)[-1] in {"models", "selectors"}]
    upward = {
        (module, imported)
        for module in lower
        for imported in graph[module]
        if imported.rsplit(".", 1)[-1] in {"services", "views", "admin"}
    }
    assert upward == set()


def test_the_counters_kept_by_every_write_sit_below_the_services():
    # The seat counters and the day totals are called from services of several apps.
    graph = dependency_graph()
    for module in ("events.seats", "analytics.day_totals", "events.summary", "core.locks"):
        # The foundation sits beneath every app, so a counter may use any of it.
        allowed = {"models", "locks", "lookups", "exceptions", *PACKAGES}
        above = {
            m
            for m in graph[module]
            if m.rsplit(".", 1)[-1] not in allowed and not m.startswith("core.")
        }
        assert above == set(), (module, above)
