"""The lessons in notebooks/ run top to bottom under nbval, and keep to the rules of a lesson.

The nbval run is a subprocess (`python -m pytest --nbval-lax notebooks/`) so that the main test
run, whose testpaths is tests/, runs the lessons too: every cell must run (a cell marked
`# NBVAL_RAISES_EXCEPTION` must fail), and the stored output of each `# NBVAL_CHECK_OUTPUT`
cell must match, up to tests/notebooks/sanitize.cfg. The other tests read the notebooks only:
the course's manifests are used verbatim, committed notebooks carry only checked outputs, and
kubelab-only commands sit in cells that say so (the lessons also run against minikube).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from lesson_runs import CHECK, NOTEBOOKS, RAISES, ROOT, SANITIZE, lesson_env, lessons, markers

from kubelab import seed

nbformat = pytest.importorskip("nbformat")

SUITE_BUDGET = 180  # seconds for all lessons (the target for CI)
KUBELAB_ONLY = re.compile(r"^\s*%kube\s+(advance|settle|clock|reset|snapshot|restore|nodes|use)\b", re.M)


def _read(path):
    return nbformat.read(path, as_version=4)


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_there_are_the_four_first_lessons():
    assert [p.name for p in lessons()] == [
        "01-kubernetes-architecture.ipynb", "02-pods.ipynb", "03-replicasets-deployments.ipynb", "04-services.ipynb"]


@pytest.mark.skipif(not lessons(), reason="no lessons")
def test_lessons_run_top_to_bottom_under_nbval_with_their_checked_outputs():
    pytest.importorskip("nbval")
    pytest.importorskip("ipykernel")
    argv = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", f"--nbval-sanitize-with={SANITIZE}",
            "--nbval-cell-timeout=120", "-p", "no:cacheprovider", "-q", str(NOTEBOOKS)]
    run = subprocess.run(argv, cwd=ROOT, env=lesson_env(), capture_output=True, text=True,
                         timeout=SUITE_BUDGET * 2)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


@pytest.mark.parametrize("name, text", [
    ("GO_DEMO_2_REPLICASET", seed.GO_DEMO_2_REPLICASET),
    ("HELLOWORLD_DEPLOYMENT", seed.HELLOWORLD_DEPLOYMENT),
    ("HELLOWORLD_DEPLOYMENT_FIXED", seed.HELLOWORLD_DEPLOYMENT_FIXED),
])
def test_lessons_apply_the_course_manifests_verbatim(name, text):
    bodies = []
    for path in lessons():
        for cell in _code(_read(path)):
            if cell.source.startswith("%%kube"):
                lines = cell.source.splitlines()[1:]
                bodies.append("\n".join(ln for ln in lines if not ln.startswith("# NBVAL_")) + "\n")
    assert text in bodies, f"no %%kube cell holds kubelab.seed.{name} verbatim"


@pytest.mark.parametrize("path", lessons(), ids=lambda p: p.name)
def test_committed_lessons_keep_only_the_outputs_nbval_checks(path):
    nb = _read(path)
    assert "widgets" not in nb.metadata
    for cell in _code(nb):
        if CHECK in markers(cell):
            assert cell.execution_count is not None and cell.outputs, f"checked cell {cell.id} has no stored output"
            assert not any(o.output_type == "error" for o in cell.outputs), f"checked cell {cell.id} stored an error"
        else:
            assert cell.outputs == [] and cell.execution_count is None, f"cell {cell.id} keeps an unchecked output"


@pytest.mark.parametrize("path", lessons(), ids=lambda p: p.name)
def test_kubelab_only_commands_are_announced_as_such(path):
    nb = _read(path)
    previous = ""
    for cell in nb.cells:
        if cell.cell_type == "code" and KUBELAB_ONLY.search(cell.source):
            said = (previous + cell.source).lower()
            assert "kubelab only" in said or "local cluster" in said, f"cell {cell.id} uses a kubelab word silently"
        previous = cell.source


@pytest.mark.parametrize("path", lessons(), ids=lambda p: p.name)
def test_each_lesson_starts_with_the_magics_and_raises_only_where_marked(path):
    cells = _code(_read(path))
    assert cells[0].source.strip() == "%load_ext kubelab"
    raising = [c for c in cells if RAISES in markers(c)]
    assert all(CHECK not in markers(c) for c in raising)
