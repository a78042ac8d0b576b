"""The package's version, written in one place: pyproject.toml's [project] version.

In a source tree (a checkout, also when installed editable) the pyproject.toml beside the package is read, so
that the version is the checkout's even before it is reinstalled; an installed wheel has no pyproject.toml
beside it and takes the version from its metadata (importlib.metadata), which the build copied from there.
"""

from __future__ import annotations

import pathlib
import re
from importlib import metadata

DISTRIBUTION = "iq1kernels"
UNKNOWN = "0+unknown"  # neither a source tree nor installed (e.g. the package folder copied by hand)

_PROJECT_TABLE = re.compile(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", re.MULTILINE | re.DOTALL)
_KEY = re.compile(r'^(name|version)\s*=\s*"([^"]*)"', re.MULTILINE)


def from_pyproject(path: pathlib.Path) -> str | None:
    """The [project] version of the pyproject.toml at `path` if it is this project's, else None. A regular
    expression, not tomllib: that is in the standard library only from Python 3.11 on."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    table = _PROJECT_TABLE.search(text)
    keys = dict(_KEY.findall(table.group(1))) if table else {}
    return keys.get("version") if keys.get("name") == DISTRIBUTION else None


def find_version(package_dir: pathlib.Path) -> str:
    """The version for the package in `package_dir` (see the module docstring)."""
    in_tree = from_pyproject(package_dir.parent / "pyproject.toml")
    if in_tree is not None:
        return in_tree
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNKNOWN


__version__ = find_version(pathlib.Path(__file__).resolve().parent)
