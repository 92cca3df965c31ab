"""``mre-pipeline dev``: find or start Postgres, migrate, export URLs, run ``dagster dev`` until Ctrl-C.

``dagster dev`` is started in its own session (process group): a background-started dagster otherwise
inherits an ignored SIGINT and cannot be stopped. Ctrl-C / TERM is forwarded to the whole group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from mre_pipeline import settings
from mre_pipeline.warehouse import migrate, server


def prepare_environment() -> dict[str, str]:
    """Start or find Postgres, create both databases, migrate, and return the environment for Dagster."""
    urls = server.resolve_urls()
    server.ensure_databases(urls)
    migrate.upgrade(urls.warehouse)
    state = settings.state_dir()
    env = dict(os.environ)
    env["MRE_DATABASE_URL"] = urls.warehouse
    env["MRE_DAGSTER_DATABASE_URL"] = urls.dagster
    env.setdefault("MRE_DAGSTER_ARTIFACTS_DIR", str(state / "dagster" / "storage"))
    env.setdefault("MRE_DAGSTER_COMPUTE_LOGS_DIR", str(state / "dagster" / "logs"))
    for key in ("MRE_DAGSTER_ARTIFACTS_DIR", "MRE_DAGSTER_COMPUTE_LOGS_DIR"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    env.pop("DAGSTER_HOME", None)  # the top-level dagster.yaml is the instance configuration
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")  # dbt and dagster from this environment
    return env


def dagster_dev_command(port: int, host: str) -> list[str]:
    exe = Path(sys.executable).parent / "dagster"
    return [str(exe), "dev", "-w", str(settings.PROJECT_ROOT / "workspace.yaml"), "-p", str(port), "-h", host]


def run_dev(port: int = 3000, host: str = "127.0.0.1") -> int:
    env = prepare_environment()
    print(f"warehouse: {_redact(env['MRE_DATABASE_URL'])}", flush=True)
    print(f"dagster storage: {_redact(env['MRE_DAGSTER_DATABASE_URL'])}", flush=True)
    print(f"Dagster UI: http://{host}:{port}  (Ctrl-C stops everything)", flush=True)
    proc = subprocess.Popen(
        dagster_dev_command(port, host), cwd=settings.PROJECT_ROOT, env=env, start_new_session=True
    )

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    try:
        return proc.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
