"""Golden-file comparison for DOT text: `golden("name", text)` checks tests/viz/golden/name.dot.

Regenerate after an intended change with `KUBELAB_UPDATE_GOLDEN=1 pytest tests/viz`, then read
the diff before committing it: the golden files are the reviewed pictures.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # scenarios.py, shared by the golden tests and benchmarks
GOLDEN = HERE / "golden"


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    def check(name: str, text: str) -> None:
        path = GOLDEN / f"{name}.dot"
        if os.environ.get("KUBELAB_UPDATE_GOLDEN") or not path.exists():
            path.write_text(text)
            if not os.environ.get("KUBELAB_UPDATE_GOLDEN"):
                pytest.fail(f"{path} did not exist: written now, review it and run again")
            return
        expected = path.read_text()
        assert text == expected, f"DOT differs from {path}; if intended, rerun with KUBELAB_UPDATE_GOLDEN=1"

    return check
