"""Every bare `%kube` line of a cell shows its output, as each command does in a terminal.

IPython displays only a cell's last expression, so in a cell with three `%kube` lines the first
two would run silently. `ShowBareMagics` (an IPython AST transformer) wraps each bare
`%kube`/`%minikube` expression that is not the cell's last statement in `show(...)`; the last
one is displayed by IPython as usual, and an assigned one (`pods = %kube get pods -o json`)
stays silent — the same rule as Python's, extended to lines above the last.

Read by: magics (installed on load, removed on unload). Reads: nothing.
"""

from __future__ import annotations

import ast
from typing import Any

MAGICS = ("kube", "minikube")


def show(result: Any) -> None:
    """Display a magic's result the way IPython displays a cell's last value (None shows nothing)."""
    if result is None:
        return
    from IPython.display import display

    display(result)


def _is_bare_magic(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Call):
        return False
    call = stmt.value
    return (isinstance(call.func, ast.Attribute) and call.func.attr == "run_line_magic"
            and bool(call.args) and isinstance(call.args[0], ast.Constant) and call.args[0].value in MAGICS)


class ShowBareMagics(ast.NodeTransformer):
    def visit_Module(self, node: ast.Module) -> ast.Module:
        last = node.body[-1] if node.body else None
        for stmt in ast.walk(node):
            for name in ("body", "orelse", "finalbody"):
                block = getattr(stmt, name, None)
                if not isinstance(block, list):
                    continue
                for i, child in enumerate(block):
                    if child is not last and _is_bare_magic(child):
                        block[i] = self._wrap(child)  # type: ignore[arg-type]
        return ast.fix_missing_locations(node)

    @staticmethod
    def _wrap(stmt: ast.Expr) -> ast.Expr:
        module = ast.Call(ast.Name("__import__", ast.Load()), [ast.Constant("kubelab.magics.display")],
                          [ast.keyword("fromlist", ast.List([ast.Constant("show")], ast.Load()))])
        call = ast.Call(ast.Attribute(module, "show", ast.Load()), [stmt.value], [])
        return ast.copy_location(ast.Expr(call), stmt)
