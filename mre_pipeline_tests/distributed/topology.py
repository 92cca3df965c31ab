"""The local distributed topology (deploy/local/up.sh, down.sh) driven from a test, and its preconditions."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from mre_pipeline import settings

UP = settings.PROJECT_ROOT / "deploy" / "local" / "up.sh"
DOWN = settings.PROJECT_ROOT / "deploy" / "local" / "down.sh"
UP_TIMEOUT_S = 600
DOWN_TIMEOUT_S = 120


def require(condition: bool, reason: str) -> None:
    """Skip without ``reason``'s tool locally; in CI (``CI`` set) its absence is a failure."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs it: .ci/run)")
    pytest.skip(reason)


def localhost_subdomains_resolve() -> bool:
    """``<slug>.localhost`` names a loopback address (glibc needs nss-myhostname: libnss-myhostname)."""
    try:
        infos = socket.getaddrinfo("mre-probe.localhost", 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return False
    return any(info[4][0] == "127.0.0.1" for info in infos)


def require_tools() -> None:
    require(
        shutil.which("redis-server") is not None,
        "redis-server is not installed (apt-get install redis-server)",
    )
    require(
        localhost_subdomains_resolve(),
        "<slug>.localhost does not resolve to 127.0.0.1 (apt-get install libnss-myhostname)",
    )


class LocalTopology:
    """One run of up.sh with ``env`` (state under ``env['MRE_STATE_DIR']``), stopped by down.sh."""

    def __init__(self, env: Mapping[str, str]):
        self.env = {**os.environ, **env}
        self.env.pop("DAGSTER_HOME", None)
        self.state_dir = Path(env["MRE_STATE_DIR"])
        self.topology_dir = self.state_dir / "topology"

    def up(self) -> str:
        completed = subprocess.run(
            ["bash", str(UP)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=UP_TIMEOUT_S,
            check=False,
        )
        if completed.returncode != 0:
            raise AssertionError(f"up.sh failed:\n{completed.stdout}\n{completed.stderr}\n{self.log_tails()}")
        return completed.stdout

    def down(self) -> str:
        completed = subprocess.run(
            ["bash", str(DOWN)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=DOWN_TIMEOUT_S,
            check=False,
        )
        return completed.stdout + completed.stderr

    def exported(self) -> dict[str, str]:
        """The variables up.sh wrote to ``topology/env`` (broker URL, code server ports, ...)."""
        values = {}
        for line in (self.topology_dir / "env").read_text().splitlines():
            if line.startswith("export "):
                for assignment in line[len("export ") :].split():
                    name, _, value = assignment.partition("=")
                    values[name] = value.strip("'")
        return values

    def pid(self, service: str) -> int:
        return int((self.topology_dir / "pids" / f"{service}.pid").read_text())

    def kill_9(self, service: str) -> None:
        """SIGKILL the service's whole process group at once: what a host losing power does to it."""
        os.killpg(self.pid(service), signal.SIGKILL)

    def log(self, service: str) -> str:
        path = self.topology_dir / "logs" / f"{service}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log_tails(self, lines: int = 15) -> str:
        logs = sorted((self.topology_dir / "logs").glob("*.log")) if self.topology_dir.exists() else []
        return "\n".join(
            f"--- {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-lines:]) for p in logs
        )
