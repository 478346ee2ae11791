"""Every module of the product's packages opens with a docstring saying what it is for."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "ai",
    "api",
    "app",
    "datastore",
    "domain",
    "events",
    "exports",
    "functions",
    "identity",
    "jobs",
    "migration",
    "notifications",
    "privacy",
)
"""Top-level packages of the product; one that does not exist (yet) is skipped."""
_NOT_OURS = {"node_modules", "__pycache__"}


def _is_alembic_revision(module: ast.Module) -> bool:
    """Generated, one per schema change: known by `down_revision`, wherever its folder moves."""
    for statement in module.body:
        targets = statement.targets if isinstance(statement, ast.Assign) else []
        if isinstance(statement, ast.AnnAssign):
            targets = [statement.target]
        if any(isinstance(t, ast.Name) and t.id == "down_revision" for t in targets):
            return True
    return False


def _modules() -> dict[Path, ast.Module]:
    found: dict[Path, ast.Module] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            hidden = any(part.startswith(".") for part in relative.parts)
            if hidden or _NOT_OURS & set(relative.parts):
                continue
            module = ast.parse(path.read_text(encoding="utf-8"))
            if not _is_alembic_revision(module):
                found[relative] = module
    return found


def test_the_packages_are_found() -> None:
    assert len(_modules()) > 100, "the package list no longer matches the layout"


def test_every_module_opens_with_a_docstring_saying_what_it_is_for() -> None:
    missing = [str(path) for path, module in _modules().items() if not ast.get_docstring(module)]
    assert not missing, "modules without a docstring (say what each is for):\n" + "\n".join(missing)
