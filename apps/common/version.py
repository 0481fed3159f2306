"""The project's version, for `manage.py --version` (and any command's --version)."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "incident-pipeline"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def project_version() -> str:
    """The version in pyproject.toml (a checkout), else the installed distribution's."""
    try:
        found = re.search(r'(?m)^version\s*=\s*"([^"]+)"', PYPROJECT.read_text())
    except OSError:
        found = None
    if found:
        return found.group(1)
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def version_line() -> str:
    import django

    python = ".".join(str(part) for part in sys.version_info[:3])
    return f"{DISTRIBUTION} {project_version()} (Django {django.get_version()}, Python {python})"
