"""The project is an installed package: console commands work, nothing edits sys.path, one root.

If these fail, a newcomer's `make venv` would not give them the commands the README names, or code has
gone back to finding the package through path edits that break when a file moves.
"""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import arrears
from arrears.paths import ROOT

pytestmark = pytest.mark.fast

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
COMMANDS = PYPROJECT["project"]["scripts"]
PYTHON_FILES = [p for folder in ("arrears", "scripts", "tests", "orchestration", "bench")
                for p in (ROOT / folder).rglob("*.py")]


def test_package_is_installed_from_this_checkout() -> None:
    """The venv imports another copy of the package (a stale install or a .pth to another folder)."""
    assert Path(arrears.__file__).resolve().parent == ROOT / "arrears"
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    assert not (site / "arrears-project.pth").exists(), "the old .pth path hack is still installed"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_console_command_runs(command: str) -> None:
    """A console command of pyproject.toml is missing from the venv or fails before parsing its arguments."""
    exe = Path(sys.executable).parent / command
    assert exe.exists(), f"{exe} is not installed: run `make venv`"
    done = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout


def test_no_code_edits_sys_path_or_recomputes_the_root() -> None:
    """A module finds the package or the project root on its own instead of importing arrears.paths."""
    offenders = []
    for path in PYTHON_FILES:
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        if re.search(r"sys\.path\.(insert|append)", text) and rel != Path("tests/pytest/test_packaging.py"):
            offenders.append(f"{rel}: sys.path edit")
        # the Airflow DAG runs in its own venv without the package: it alone derives the root from its path
        if re.search(r"__file__\)\.resolve\(\)\.parents\[", text) and rel not in {
                Path("arrears/paths.py"), Path("orchestration/airflow/dags/arrears_daily.py")}:
            offenders.append(f"{rel}: computes the project root")
    assert not offenders, offenders


def test_scripts_are_thin() -> None:
    """Logic crept back into scripts/: it belongs in the package, where it is importable and tested."""
    for path in (ROOT / "scripts").glob("*.py"):
        code = [line for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
        assert len(code) <= 8, f"{path.name} has {len(code)} lines"
