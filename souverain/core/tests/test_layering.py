"""The layering of the code base, checked on the source (every import, including those inside functions).

    core  ←  tenancy / sovereignty / estate  ←  connectors  ←  inventory / policy / jobs / audit / notifications
          ←  provisioning / mobility (the acting apps)  ←  api / portal / cli

- a lower layer never imports a higher one; nothing imports the portal or the CLI;
- an app's ``api`` package (serializers, views) is the outside of the app: only API code, the portal, the CLI
  and the project's URL conf import it — the domain (services, console, tasks) never does;
- below the entry points (project, CLI), nothing imports ``souverain.project``: the Celery app is reached
  through celery's ``current_app``, which the project sets when Django's settings load;
- the connectors and the pure modules (the estate as plain data, ownership, exposure, workloads, placement,
  the knowledge base) import no Django at all: ``souverain place --estate FILE`` and the what-if tools run them
  with neither settings nor a database. A fresh interpreter importing them must not load ``django``.

A function-local import counts: it hides the dependency from a reader, not from the layering.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import souverain

PACKAGE = Path(souverain.__file__).parent

# Layer of each top-level part of the package; a module may import its own layer and those below it.
LAYERS = {
    "core": 0,
    "tenancy": 1, "sovereignty": 1, "estate": 1, "kb": 1,
    "connectors": 2,
    "inventory": 3, "policy": 3, "jobs": 3, "policies": 3, "audit": 3, "notifications": 3, "capacity": 3,
    # The acting apps: they build on the inventory, the policies and the jobs.
    "provisioning": 4, "mobility": 4,
    "sso": 4,  # single sign-on: maps provider claims to tenancy memberships
    "api": 9, "portal": 9, "cli": 9, "project": 9,
}
TOP = {"portal", "cli"}

PURE_MODULES = [
    "souverain.estate.snapshot",
    "souverain.estate.ownership",
    "souverain.estate.exposure",
    "souverain.policy.workloads",
    "souverain.policy.placement",
    "souverain.sovereignty.kb",
    "souverain.audit.chain",  # ``souverain audit verify --file`` runs it with neither settings nor a database
    "souverain.audit.evidence_pack",  # ``souverain evidence verify pack.zip``: offline, on an auditor's machine
]
FORBIDDEN_IN_PURE = ("django", "rest_framework", "drf_spectacular", "celery")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import statement of the file, at any depth."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                if node.module:
                    yield node.lineno, f"{base}.{node.module}"
                else:  # ``from . import x``: each x is a module of the package (or a name in it)
                    for alias in node.names:
                        yield node.lineno, f"{base}.{alias.name}"
            else:
                yield node.lineno, node.module or ""


def source_files() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if "tests" not in p.parts and "migrations" not in p.parts]


def module_file(name: str) -> Path:
    relative = Path(*name.split(".")[1:])
    candidate = PACKAGE / relative.with_suffix(".py")
    return candidate if candidate.exists() else PACKAGE / relative / "__init__.py"


def part(name: str) -> str:
    """``souverain.jobs.services`` → ``jobs``; the package itself → ``""``."""
    return name.split(".")[1] if "." in name else ""


def is_api(name: str) -> bool:
    """An app's API package (``souverain.<app>.api…``)."""
    return ".api." in f"{name}."


def test_the_helpers_resolve_relative_imports() -> None:
    """The checks below are only as good as this resolution: pin it on a known file."""
    found = {target for _, target in imported_names(PACKAGE / "estate" / "exposure.py")}
    assert {"souverain.estate.ownership", "souverain.estate.snapshot", "souverain.sovereignty.kb"} <= found
    found = {target for _, target in imported_names(PACKAGE / "jobs" / "tasks.py")}
    assert "souverain.jobs.services" in found  # ``from . import services``


def test_no_layer_imports_a_higher_one() -> None:
    problems = []
    for path in source_files():
        own = part(module_name(path))
        for line, target in imported_names(path):
            if not target.startswith("souverain."):
                continue
            other = part(target)
            if other in TOP and own not in TOP:
                problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: imports {target} (nothing imports it)")
            elif own in LAYERS and other in LAYERS and LAYERS[other] > LAYERS[own]:
                problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {own} imports {target}, a higher layer")
    assert problems == []


def test_the_domain_does_not_import_an_api_package() -> None:
    problems = []
    for path in source_files():
        source = module_name(path)
        if is_api(source) or part(source) in ("portal", "cli", "project", ""):
            continue
        for line, target in imported_names(path):
            if target.startswith("souverain.") and is_api(target):
                problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: imports {target}")
    assert problems == []


def test_only_the_entry_points_import_the_project() -> None:
    problems = []
    for path in source_files():
        if part(module_name(path)) in ("project", "cli", ""):
            continue
        for line, target in imported_names(path):
            if target == "souverain.project" or target.startswith("souverain.project."):
                problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: imports {target}")
    assert problems == []


@pytest.mark.parametrize("name", PURE_MODULES + ["souverain.connectors"])
def test_pure_modules_import_no_django_even_inside_a_function(name: str) -> None:
    path = module_file(name)
    files = sorted(path.parent.rglob("*.py")) if path.name == "__init__.py" else [path]
    problems = [
        f"{file.relative_to(PACKAGE.parent)}:{line}: imports {target}"
        for file in files if "tests" not in file.parts
        for line, target in imported_names(file)
        if target.split(".")[0] in FORBIDDEN_IN_PURE or target.rpartition(".")[2] == "models"
    ]
    assert problems == []


def test_a_fresh_interpreter_imports_the_pure_modules_without_django() -> None:
    script = (
        "import importlib, sys\n"
        f"for name in {PURE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN_IN_PURE!r}))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PACKAGE.parent)}  # no DJANGO_SETTINGS_MODULE
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
