"""The apps stand on each other one way: no two apps import each other (STYLE.md)."""

import ast
from pathlib import Path

from orderdesk.accounts.permissions import Permission
from orderdesk.notifications import topics

PROJECT = Path(__file__).resolve().parents[1]
APPS = sorted(path.parent.name for path in PROJECT.glob("*/apps.py"))


def _apps_imported_by(app: str) -> dict[str, str]:
    """Each other app this app's code imports (tests and migrations aside), with one file that does."""
    found: dict[str, str] = {}
    for path in (PROJECT / app).rglob("*.py"):
        if {"tests", "migrations"} & set(path.relative_to(PROJECT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                parts = module.split(".")
                if parts[0] == "orderdesk" and len(parts) > 1 and parts[1] in APPS and parts[1] != app:
                    found.setdefault(parts[1], str(path.relative_to(PROJECT)))
    return found


def test_the_scan_sees_the_imports_it_looks_for():
    assert "accounts" in _apps_imported_by("orders")
    assert "notifications" in _apps_imported_by("orders")


def test_no_two_apps_import_each_other():
    imports = {app: _apps_imported_by(app) for app in APPS}
    loops = sorted(
        f"{app} ({imports[app][other]}) ⇄ {other} ({imports[other][app]})"
        for app in APPS
        for other in imports[app]
        if app < other and app in imports.get(other, {})
    )
    assert loops == []


def test_the_permissions_the_outbox_checks_are_in_the_permission_table():
    assert Permission(topics.CHOOSE_NOTIFICATIONS) == Permission.CHOOSE_NOTIFICATIONS
    assert Permission(topics.RESEND_NOTIFICATIONS) == Permission.RESEND_NOTIFICATIONS
