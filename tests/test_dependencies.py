"""DESIGN.md, "Architecture": dependencies point one way, registry <- people <- agreements <-
labs (then the back office and the API, registry/settings.py); a module never imports from an
app to its right. Only site-wide composition may see every app."""

import ast
from pathlib import Path

from django.conf import settings

BASE = Path(settings.BASE_DIR)
# The project's apps, in the order settings lists them: the order of their dependencies.
APPS = [app for app in settings.INSTALLED_APPS if (BASE / app / "apps.py").exists()]

# The project package's site-wide composition, which registry/ also holds: the root urls, the
# home page, the sitemaps of every kind of record, and the middleware that answers an outage
# of the database in the API's JSON too.
COMPOSITION = {
    "registry/urls.py",
    "registry/views.py",
    "registry/sitemaps.py",
    "registry/middleware.py",
}


def imported_apps(path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def test_no_module_imports_from_an_app_to_its_right():
    assert APPS == ["registry", "people", "agreements", "labs", "backoffice", "api"]
    wrong = []
    for place, app in enumerate(APPS):
        for path in sorted((BASE / app).rglob("*.py")):
            name = path.relative_to(BASE).as_posix()
            if name in COMPOSITION:
                continue
            wrong += [
                f"{name} imports {other}"
                for other in set(imported_apps(path))
                if other in APPS and APPS.index(other) > place
            ]

    assert sorted(wrong) == []
