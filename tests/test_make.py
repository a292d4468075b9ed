"""The Makefile's own checks, run with make itself: Python 3.11 is required, and a wrong
interpreter stops make before it creates the virtualenv, with the fix in the message."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
    )


def fake_python(directory: Path, version: str) -> Path:
    """An interpreter that answers every invocation with its version, as `python -V` does."""
    script = directory / "python-fake"
    script.write_text(f'#!/bin/sh\necho "Python {version}"\n')
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("target", ["run", "test"])
def test_another_python_stops_make_before_the_virtualenv_with_the_fix(tmp_path, target):
    python = fake_python(tmp_path, "3.12.1")
    venv = tmp_path / "venv"
    done = make(target, f"PYTHON={python}", f"VENV={venv}")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"Evently needs Python 3.11, but {python} is Python 3.12.1." in done.stderr
    assert f"make {target} PYTHON=/path/to/python3.11" in done.stderr
    assert not venv.exists()


def test_a_python_that_is_not_there_is_named(tmp_path):
    venv = tmp_path / "venv"
    done = make("run", f"PYTHON={tmp_path / 'python3.11'}", f"VENV={venv}")
    assert done.returncode == 2
    assert f"Evently needs Python 3.11, but {tmp_path / 'python3.11'} is not found." in done.stderr
    assert not venv.exists()


def test_python_defaults_to_python3_11_when_it_is_on_the_path():
    found = shutil.which("python3.11")
    done = make("-n", "run", "VENV=/nonexistent/venv")
    assert done.returncode == 0, done.stderr
    assert f"{found or 'python3'} -m venv /nonexistent/venv" in done.stdout
