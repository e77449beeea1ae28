"""`[tool.kubelab]` in pyproject.toml: project-wide defaults for `KubeMagic`'s settings.

As jupysql does for `[tool.jupysql.SqlMagic]`, the nearest pyproject.toml in the working
directory or its parents is read when the extension loads; each key is a `KubeMagic` trait
(`target = "local"`, `clock = "stepped"`, `seed = 1`, …). A setting made in the IPython
configuration (`c.KubeMagic.x` or `%config` before loading) wins over the file.

Read by: magics (load_ipython_extension). Reads: tomllib (tomli on Python 3.10).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any


def find_pyproject(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _toml() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    try:
        import tomli
    except ImportError:
        return None
    return tomli


def read(start: Path | None = None) -> tuple[Path | None, dict[str, Any]]:
    """The nearest pyproject.toml and its `[tool.kubelab]` table (empty if none)."""
    path = find_pyproject(start)
    toml = _toml()
    if path is None or toml is None:
        return path, {}
    try:
        with path.open("rb") as f:
            doc = toml.load(f)
    except (OSError, ValueError) as err:
        warnings.warn(f"kubelab: could not read {path}: {err}", stacklevel=2)
        return path, {}
    table = doc.get("tool", {}).get("kubelab", {})
    return path, table if isinstance(table, dict) else {}


def apply(magic: Any, start: Path | None = None) -> dict[str, Any]:
    """Set `magic`'s traits from `[tool.kubelab]`, except those the IPython config already sets.
    Returns what it set; warns about unknown keys and bad values, naming the file."""
    path, table = read(start)
    explicit = set(magic.config.get(type(magic).__name__, {}))
    known = set(magic.class_trait_names(config=True))
    applied: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            warnings.warn(f"kubelab: unknown setting {key!r} in [tool.kubelab] of {path}; "
                          f"settings are: {', '.join(sorted(known))}", stacklevel=2)
            continue
        if key in explicit:
            continue
        try:
            setattr(magic, key, value)
        except Exception as err:  # a traitlets TraitError: say where the bad value came from
            warnings.warn(f"kubelab: [tool.kubelab] {key} in {path}: {err}", stacklevel=2)
            continue
        applied[key] = value
    return applied
