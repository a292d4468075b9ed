"""Every module dependency points one way: no import cycle between the project's modules,
and the house stands in its floors: the root (`evently/`) on top, which nothing imports; the
foundation (`core/`) beneath every app, importing none of them.

Read from the source with `ast`, function-level imports included, so a cycle cannot hide in
an import placed inside a function to dodge it.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The composition root: settings, root urls, wsgi/asgi, the admin site, the demo.
ROOT_PACKAGE = "evently"
# What every app may use; it imports no app and not the root.
FOUNDATION = "core"
DOMAIN_APPS = ("accounts", "events", "bookings", "waitlist", "notifications", "analytics")
PACKAGES = (ROOT_PACKAGE, FOUNDATION, *DOMAIN_APPS, "waitingroom", "boxoffice", "webhooks", "bench")
# The house's floors, bottom first: each package imports only those before it
# (docs/architecture.md draws this order).
PACKAGE_ORDER = (
    FOUNDATION,
    "accounts",
    "events",
    "notifications",
    "waitlist",
    "waitingroom",
    "bookings",
    "analytics",
    "boxoffice",
    "webhooks",
    ROOT_PACKAGE,
    "bench",
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
    for module in ("events.seats", "bookings.sales", "events.summary", "core.locks"):
        # The foundation sits beneath every app, so a counter may use any of it.
        allowed = {"models", "locks", "lookups", "exceptions", *PACKAGES}
        above = {
            m
            for m in graph[module]
            if m.rsplit(".", 1)[-1] not in allowed and not m.startswith(FOUNDATION + ".")
        }
        assert above == set(), (module, above)


def _package(module: str) -> str:
    return module.split(".", 1)[0]


def foundation_reaching_up(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """(module, import) pairs where the foundation imports an app, the root or bench."""
    return {
        (module, imported)
        for module, imports in graph.items()
        if _package(module) == FOUNDATION
        for imported in imports
        if _package(imported) != FOUNDATION
    }


def root_importers(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """(module, import) pairs where a module outside the root imports it.

    The entry points need no exception: manage.py, gunicorn and the tests name
    `evently.settings` and `evently.wsgi` as strings, and wsgi/asgi are the root's own.
    """
    return {
        (module, imported)
        for module, imports in graph.items()
        if _package(module) != ROOT_PACKAGE
        for imported in imports
        if _package(imported) == ROOT_PACKAGE
    }


def test_every_top_level_package_is_scanned():
    # A new app or package must take its place in the house, or the rules below miss it.
    on_disk = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests"}
    assert on_disk == set(PACKAGES) == set(PACKAGE_ORDER)


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The top-level packages each package imports (modules' imports, folded)."""
    packages: dict[str, set[str]] = {}
    for module, imports in graph.items():
        edges = packages.setdefault(_package(module), set())
        edges.update(_package(m) for m in imports if _package(m) != _package(module))
    return packages


def imports_up(packages: dict[str, set[str]]) -> set[tuple[str, str]]:
    """(package, import) pairs where a package imports one at or above its own floor."""
    floor = {name: i for i, name in enumerate(PACKAGE_ORDER)}
    return {(p, q) for p, imports in packages.items() for q in imports if floor[q] >= floor[p]}


def test_no_cycle_between_top_level_packages():
    cycle = find_cycle(package_graph(dependency_graph()))
    assert cycle is None, "package cycle: " + " -> ".join(cycle)


def test_every_package_imports_only_those_below_it():
    assert imports_up(package_graph(dependency_graph())) == set()


def test_the_package_rules_catch_an_import_up_a_floor():
    graph = {"events.services": {"bookings.services"}, "bookings.services": {"events.models"}}
    packages = package_graph(graph)
    assert packages == {"events": {"bookings"}, "bookings": {"events"}}
    assert imports_up(packages) == {("events", "bookings")}
    assert find_cycle(packages) in (
        ["events", "bookings", "events"],
        ["bookings", "events", "bookings"],
    )
    assert imports_up({"boxoffice": {"bookings", "events", "core"}}) == set()


def test_the_foundation_imports_no_app_and_not_the_root():
    assert foundation_reaching_up(dependency_graph()) == set()


def test_nothing_below_the_root_imports_it():
    # Settings are read through django.conf.settings, never by importing evently.settings.
    assert root_importers(dependency_graph()) == set()


def test_the_house_rules_catch_a_function_level_import(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from evently.admin_site import SECTIONS\n")
    modules = {"core.schema": source, "evently.admin_site": source, "events.admin": source}
    imports = imports_of(source, modules)
    assert imports == {"evently.admin_site"}
    graph = {"core.schema": imports, "events.admin": imports, "evently.urls": imports}
    assert foundation_reaching_up(graph) == {("core.schema", "evently.admin_site")}
    assert root_importers(graph) == {
        ("core.schema", "evently.admin_site"),
        ("events.admin", "evently.admin_site"),
    }
    assert foundation_reaching_up({"core.locks": {"core.exceptions"}}) == set()
    assert foundation_reaching_up({"core.permissions": {"accounts.models"}}) == {
        ("core.permissions", "accounts.models")
    }


def test_the_apps_webhooks_reports_on_never_import_it():
    # webhooks sits above the domain apps: they send signals, it listens (docs/architecture.md).
    graph = dependency_graph()
    below = (FOUNDATION, *DOMAIN_APPS, "waitingroom", "boxoffice")
    upward = {
        (module, imported)
        for module, imports in graph.items()
        if module.split(".")[0] in below
        for imported in imports
        if imported.split(".")[0] == "webhooks"
    }
    assert upward == set()
