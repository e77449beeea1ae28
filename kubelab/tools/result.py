"""`KubectlResult`: what `%kube` returns — kubectl's text, exit status, and its output as objects.

Its display is kubectl's stdout, exactly as a terminal shows it (IPython calls `_ipython_display_`,
which writes the text as the cell's output, so there is no `Out[n]:` prompt). `.json()` parses
`-o json` output; `.objects` gives the objects of `-o json|yaml` (a List's items, or the one
object) so a lesson can go on in Python: `pods = %kube get pods -o json`.

Read by: magics, widgets. Reads: pyyaml (for -o yaml).
"""

from __future__ import annotations

import json
import sys
from typing import Any


class KubectlResult:
    """The outcome of one kubectl command: `.stdout`, `.stderr`, `.returncode`, `.args`."""

    def __init__(self, args: list[str], returncode: int, stdout: str, stderr: str) -> None:
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def json(self) -> Any:
        """The stdout parsed as JSON (run the command with `-o json`)."""
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as err:
            raise ValueError(f"kubectl's output is not JSON ({err.msg}): run the command with -o json") from None

    @property
    def objects(self) -> list[dict[str, Any]]:
        """The Kubernetes objects printed with `-o json` or `-o yaml`: a List's items, or [the object]."""
        text = self.stdout.lstrip()
        if not text:
            return []
        if text[0] in "{[":
            docs = [self.json()]
        else:
            import yaml

            try:
                docs = [d for d in yaml.safe_load_all(text) if d is not None]
            except yaml.YAMLError:
                raise ValueError("kubectl's output is neither JSON nor YAML: run the command with -o json "
                                 "or -o yaml") from None
        objects: list[dict[str, Any]] = []
        for doc in docs:
            is_list = isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List")
            if is_list and isinstance(doc.get("items"), list):
                objects.extend(doc["items"])
            elif isinstance(doc, dict) and "kind" in doc:
                objects.append(doc)
            else:
                raise ValueError("kubectl's output is not a Kubernetes object: run the command with -o json "
                                 "or -o yaml")
        return objects

    def __str__(self) -> str:
        return self.stdout

    def __repr__(self) -> str:
        return self.stdout.rstrip("\n")

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.stdout.rstrip("\n"))

    def _ipython_display_(self) -> None:
        # The text as the cell's output stream, as in a terminal (no `Out[n]:` prompt, no quotes).
        if self.stdout:
            sys.stdout.write(self.stdout if self.stdout.endswith("\n") else self.stdout + "\n")
            sys.stdout.flush()
