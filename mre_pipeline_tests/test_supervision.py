"""The launcher's process supervision: single instance, children that die with their parent, the watchdog."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mre_pipeline import settings
from mre_pipeline.supervision import AlreadyRunning, SingleInstance, group_alive


def wait_until_gone(pids: list[int], timeout_s: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout_s
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [p for p in pids if _alive(p)]
        time.sleep(0.1)
    return alive


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_single_instance_names_the_holder_and_a_stale_file_does_not_block(tmp_path: Path) -> None:
    path = tmp_path / "dev.lock"
    first = SingleInstance(path)
    first.acquire({"port": 3000, "url": "http://127.0.0.1:3000"})
    assert SingleInstance(path).holder() == {"pid": os.getpid(), "port": 3000, "url": "http://127.0.0.1:3000"}
    with pytest.raises(AlreadyRunning) as exc:
        SingleInstance(path).acquire({"port": 3001})
    assert exc.value.owner["pid"] == os.getpid() and exc.value.owner["port"] == 3000
    first.release()
    assert SingleInstance(path).holder() is None

    # A holder killed with -9 leaves its file behind: the lock went with the process.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from mre_pipeline.supervision import SingleInstance; "
            f"SingleInstance(Path({str(path)!r})).acquire({{'port': 9}}); print('held', flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    assert SingleInstance(path).holder() == {"pid": holder.pid, "port": 9}
    holder.kill()
    holder.wait()
    assert path.exists()
    second = SingleInstance(path)
    second.acquire({"port": 3002})
    second.release()


PARENT = textwrap.dedent(
    """
    import signal, sys, time
    from pathlib import Path
    from mre_pipeline.supervision import Watchdog, spawn
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a background job started by a script
    watchdog = Watchdog(Path.cwd(), {"PATH": "/usr/bin:/bin"})
    child = spawn([sys.executable, "-c", "import time; time.sleep(600)"], {}, Path.cwd())
    grandchild_script = "import subprocess, sys, time; subprocess.Popen(['sleep', '600']); time.sleep(600)"
    group = spawn([sys.executable, "-c", grandchild_script], {}, Path.cwd())
    watchdog.guard_group(group.pid)
    print(child.pid, group.pid, watchdog.process.pid, flush=True)
    time.sleep(600)
    """
)


def test_children_and_their_groups_die_with_a_killed_parent() -> None:
    """kill -9 of the parent: PR_SET_PDEATHSIG ends its children, the watchdog ends their process groups."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, cwd=settings.PROJECT_ROOT
    )
    assert parent.stdout is not None
    child, group, watchdog = (int(x) for x in parent.stdout.readline().split())
    time.sleep(1.0)  # the grandchild `sleep` starts
    grandchildren = [
        int(p)
        for p in subprocess.run(["pgrep", "-g", str(group)], capture_output=True, text=True).stdout.split()
    ]
    assert len(grandchildren) == 2, "the group holds the child and its own child"
    child_status = Path(f"/proc/{child}/status").read_text()
    sig_ignored = int(
        next(line for line in child_status.splitlines() if line.startswith("SigIgn")).split()[1], 16
    )
    assert not sig_ignored & (1 << (signal.SIGINT - 1)), "children get SIGINT back at its default"

    parent.kill()
    parent.wait()
    assert wait_until_gone([child, *grandchildren, watchdog]) == []
    assert not group_alive(group)
