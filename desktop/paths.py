"""Where the program's own files are: resources and migrations, from a source tree or a wheel."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0]


@cache
def resources_dir() -> Path:
    """The resources folder: the repository's ``resources/`` or the installed copy."""
    frozen = Path(getattr(sys, "_MEIPASS", "")) / "resources"
    return _first_existing(_PACKAGE_DIR.parent / "resources", _PACKAGE_DIR / "_resources", frozen)


@cache
def migrations_dir() -> Path:
    """The Alembic script folder: the repository's ``db/`` or the installed copy."""
    frozen = Path(getattr(sys, "_MEIPASS", "")) / "db"
    return _first_existing(_PACKAGE_DIR.parent / "db", _PACKAGE_DIR / "_db", frozen)
