"""`./mre` keeps an existing environment: on a pyenv machine (python3.11 is a shim script) every command
used to replace `.venv`, breaking whatever ran from it (a running `./mre dev`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mre_pipeline import settings

pytestmark = pytest.mark.e2e

CHANGES = ("Installed", "Uninstalled", "Removed", "Creating virtual environment", "Using CPython")


def _checkout_copy(dest: Path) -> None:
    """What `./mre` needs from a fresh clone; the pinned uv is shared (installing it needs PyPI)."""
    root = settings.PROJECT_ROOT
    for name in ("mre", "pyproject.toml", "uv.lock", "README.md"):
        shutil.copy2(root / name, dest / name)
    shutil.copytree(
        root / "mre_pipeline", dest / "mre_pipeline", ignore=shutil.ignore_patterns("__pycache__")
    )
    (dest / ".tools").symlink_to(root / ".tools")


def _pyenv_like_shim(shims: Path) -> Path:
    """A `python3.11` that is a script exec'ing the real interpreter, as pyenv's and asdf's shims are."""
    real = Path(sys.base_prefix) / "bin" / "python3.11"
    assert real.exists(), real
    shims.mkdir()
    shim = shims / "python3.11"
    shim.write_text(f'#!/bin/sh\nexec "{real}" "$@"\n')
    shim.chmod(0o755)
    return real


@pytest.mark.skipif(
    not (settings.PROJECT_ROOT / ".tools" / "uv" / "bin" / "uv").exists(), reason="run ./mre first"
)
def test_repeated_commands_keep_the_environment(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    _checkout_copy(checkout)
    real = _pyenv_like_shim(tmp_path / "shims")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHON", "UV_PYTHON")}
    env["PATH"] = f"{tmp_path / 'shims'}{os.pathsep}{env.get('PATH', '')}"

    def mre(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["./mre", *args], cwd=checkout, env=env, capture_output=True, text=True, timeout=900
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    mre("help")  # creates .venv
    python = checkout / ".venv" / "bin" / "python"
    # Compiled once, so that no process compiles Dagster from source where bytecode cannot be written.
    site_packages = checkout / ".venv" / "lib" / "python3.11" / "site-packages"
    assert list((site_packages / "dagster" / "__pycache__").glob("__init__.cpython-311*.pyc"))
    assert (checkout / ".venv" / ".mre-bytecode-for").read_text().strip()
    assert python.resolve() == real.resolve(), "the shim was resolved to the real interpreter"
    marker = checkout / ".venv" / "kept-marker"
    marker.write_text("still here")
    before = os.lstat(python).st_ino

    for args in (("help",), ("--version",), ("help",)):
        mre(*args)
    assert marker.exists(), ".venv was replaced"
    assert os.lstat(python).st_ino == before

    sync = subprocess.run(
        [str(checkout / ".tools" / "uv" / "bin" / "uv"), "sync", "--locked"],
        cwd=checkout,
        env={**env, "UV_PYTHON_DOWNLOADS": "never"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert sync.returncode == 0, sync.stderr
    output = sync.stdout + sync.stderr
    assert "Audited" in output or "Checked" in output, output
    assert not [word for word in CHANGES if word in output], output
