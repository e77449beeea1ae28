"""`kubelab lab`, the README's main command, opens the lessons in JupyterLab."""

from __future__ import annotations

import os
import sys
import types

import pytest

from kubelab import cli


@pytest.fixture
def jupyterlab_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "jupyterlab", types.ModuleType("jupyterlab"))


def test_lab_replaces_itself_with_jupyter_lab_rooted_at_the_lessons(jupyterlab_installed, capsys):
    calls = []
    assert cli.lab(None, no_browser=True, port=8899, execute=lambda exe, argv: calls.append((exe, argv))) == 0
    [(exe, argv)] = calls
    assert exe == sys.executable
    assert argv[1:4] == ["-m", "jupyter", "lab"]
    assert argv[4].endswith("notebooks") and argv[5:7] == ["--no-browser", "--port=8899"]
    assert argv[7:] == (["--allow-root"] if os.geteuid() == 0 else [])
    assert "opening the lessons" in capsys.readouterr().out


def test_lab_without_lessons_says_where_it_looked(jupyterlab_installed, tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert cli.main(["lab", "--dir", str(missing)]) == 1
    assert f"no lessons at {missing}" in capsys.readouterr().err


def test_lab_without_jupyterlab_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "jupyterlab", None)  # makes `import jupyterlab` fail
    assert cli.lab(None, no_browser=False, port=None, execute=lambda *a: pytest.fail("exec'd")) == 1
    assert "pip install 'kubelab[lab]'" in capsys.readouterr().err


def test_lessons_are_found_from_anywhere_in_a_clone(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    found = cli.find_lessons()
    assert found is not None and (found / "01-kubernetes-architecture.ipynb").exists()
