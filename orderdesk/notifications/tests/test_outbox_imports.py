"""The outbox stands below the domain apps: nothing in notifications/ imports orders."""

import ast
from pathlib import Path

import orderdesk.notifications

PACKAGE = Path(orderdesk.notifications.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_module_of_the_outbox_or_its_tests_imports_the_orders_app():
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 20  # the scan sees the whole package, migrations and tests included

    importing_orders = {
        str(path.relative_to(PACKAGE)): sorted(
            name for name in imported_modules(path) if name.startswith("orderdesk.orders")
        )
        for path in sources
    }

    assert {path: names for path, names in importing_orders.items() if names} == {}


def test_the_outbox_templates_name_no_order_page():
    templates = sorted((PACKAGE / "templates").rglob("*.*"))
    assert templates
    assert [
        str(t.relative_to(PACKAGE))
        for t in templates
        if "orders:" in t.read_text() or "orders/" in t.read_text()
    ] == []
