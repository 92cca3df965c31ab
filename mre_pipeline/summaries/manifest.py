"""Prepare ``dbt_summaries/target/manifest.json`` so the Dagster definitions load anywhere.

dagster-dbt only parses the project by itself under ``dagster dev``; tests, CI and ``dagster definitions
validate`` on a fresh clone need the manifest too. ``ensure_manifest()`` runs ``dbt parse`` only when the
manifest is missing or the project's files changed (a content fingerprint, so it costs milliseconds when
current). Parallel processes are safe: one parses under a file lock while the others wait, the parse
writes to a private target path, and the manifest is moved into place with an atomic rename.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path

from mre_pipeline.summaries.dbt_env import PROJECT_DIR, dbt_executable

TARGET_DIR = PROJECT_DIR / "target"
MANIFEST_PATH = TARGET_DIR / "manifest.json"
FINGERPRINT_PATH = TARGET_DIR / "manifest.fingerprint"
_INPUT_DIRS = ("models", "macros", "tests", "seeds", "snapshots", "analyses")
_INPUT_FILES = ("dbt_project.yml", "profiles.yml", "selectors.yml")
_INPUT_SUFFIXES = {".sql", ".yml", ".yaml", ".md", ".csv", ".py"}


class ManifestError(RuntimeError):
    """``dbt parse`` failed: the dbt project itself is broken."""


def project_fingerprint(project_dir: Path = PROJECT_DIR) -> str:
    """Hash of every file dbt parses plus the dbt version: changes exactly when a re-parse is due."""
    digest = hashlib.sha256()
    try:
        digest.update(f"dbt-core {metadata.version('dbt-core')}\n".encode())
    except metadata.PackageNotFoundError:
        digest.update(b"dbt-core unknown\n")
    paths = [project_dir / name for name in _INPUT_FILES if (project_dir / name).is_file()]
    for folder in _INPUT_DIRS:
        root = project_dir / folder
        if root.is_dir():
            paths.extend(p for p in root.rglob("*") if p.is_file() and p.suffix in _INPUT_SUFFIXES)
    for path in sorted(paths):
        digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def models_version(project_dir: Path = PROJECT_DIR) -> str:
    """Fingerprint of what decides the summaries' rows: the models' and macros' SQL and dbt_project.yml.

    Recorded per event in summary_watermark; the sensor rebuilds events an older version built. Tests and
    descriptions are left out, so changing them rebuilds nothing.
    """
    digest = hashlib.sha256()
    paths = [project_dir / "dbt_project.yml"]
    for folder in ("models", "macros"):
        paths.extend(p for p in (project_dir / folder).rglob("*.sql") if p.is_file())
    for path in sorted(paths):
        digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _is_current(fingerprint: str) -> bool:
    try:
        return MANIFEST_PATH.is_file() and FINGERPRINT_PATH.read_text().strip() == fingerprint
    except OSError:
        return False


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def ensure_manifest(force: bool = False, timeout_s: float = 300.0) -> Path:
    """Return the path of an up-to-date manifest, running ``dbt parse`` first if needed."""
    fingerprint = project_fingerprint()
    if not force and _is_current(fingerprint):
        return MANIFEST_PATH
    TARGET_DIR.mkdir(parents=True, exist_ok=True)
    with open(TARGET_DIR / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if we crash
        if not force and _is_current(fingerprint):  # another process parsed while we waited
            return MANIFEST_PATH
        work = Path(tempfile.mkdtemp(prefix="parse-", dir=TARGET_DIR))
        try:
            completed = subprocess.run(
                [
                    dbt_executable(),
                    "parse",
                    "--project-dir",
                    str(PROJECT_DIR),
                    "--profiles-dir",
                    str(PROJECT_DIR),
                    "--target-path",
                    str(work),
                    "--log-path",
                    str(work),
                    "--no-partial-parse",
                    "--quiet",
                ],
                cwd=PROJECT_DIR,
                env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
            produced = work / "manifest.json"
            if completed.returncode != 0 or not produced.is_file():
                output = (completed.stdout + completed.stderr).strip()[-4000:]
                raise ManifestError(f"dbt parse failed (exit {completed.returncode}):\n{output}")
            os.replace(produced, MANIFEST_PATH)
            _atomic_write(FINGERPRINT_PATH, fingerprint)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return MANIFEST_PATH
