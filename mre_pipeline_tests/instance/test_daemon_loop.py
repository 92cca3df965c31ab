"""`python -m mre_pipeline.instance.daemon` is Dagster's daemon CLI with the sensor loop from the environment."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import dagster._daemon.sensor as sensor_daemon
import pytest
from dagster._core.definitions.run_request import InstigatorType

from mre_pipeline.instance import daemon


def test_the_sensor_loop_is_set_before_dagsters_daemon_cli_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[float] = []
    monkeypatch.setattr(sensor_daemon, "MIN_INTERVAL_LOOP_TIME", sensor_daemon.MIN_INTERVAL_LOOP_TIME)
    monkeypatch.setattr(
        daemon, "dagster_daemon_main", lambda: seen.append(sensor_daemon.MIN_INTERVAL_LOOP_TIME)
    )
    monkeypatch.setenv("MRE_SENSOR_LOOP_S", "0.5")
    daemon.main()
    assert seen == [0.5]
    monkeypatch.delenv("MRE_SENSOR_LOOP_S")
    daemon.main()
    assert seen == [0.5, 1.0]


def test_it_is_dagsters_own_daemon_command_line() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mre_pipeline.instance.daemon", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for command in ("run", "liveness-check", "wipe"):
        assert command in out


SENSOR_LOCATION = """
import dagster as dg


@dg.sensor(minimum_interval_seconds={interval}, default_status=dg.DefaultSensorStatus.RUNNING, job_name="noop")
def every_interval(context):
    return dg.SkipReason("nothing to do")


@dg.op
def nothing():
    return None


@dg.job
def noop():
    nothing()


defs = dg.Definitions(jobs=[noop], sensors=[every_interval])
"""


def _tick_gaps(dagster_home: Path) -> list[float]:
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        states = instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
        ticks = [
            tick
            for state in states
            for tick in instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=100)
        ]
    stamps = sorted(tick.timestamp for tick in ticks)
    return [later - earlier for earlier, later in zip(stamps, stamps[1:], strict=False)]


@pytest.mark.parametrize(("interval", "expected_gap_s"), [(1, 1.0), (2, 2.0)])
def test_a_sensor_ticks_at_its_interval_not_a_loop_later(
    tmp_path: Path, interval: int, expected_gap_s: float
) -> None:
    """Dagster's own due-check aliased a 1 s sensor on a 1 s loop to a tick every 2 s (a 2 s one to 3 s)."""
    (tmp_path / "location.py").write_text(SENSOR_LOCATION.format(interval=interval))
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "MRE_SENSOR_LOOP_S": "1"}
    daemon_process = subprocess.Popen(
        [sys.executable, "-m", "mre_pipeline.instance.daemon", "run", "-f", str(tmp_path / "location.py")],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while len(_tick_gaps(tmp_path)) < 6 and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        daemon_process.terminate()
        daemon_process.wait(30)
    gaps = _tick_gaps(tmp_path)
    assert len(gaps) >= 6
    assert statistics.median(gaps) == pytest.approx(expected_gap_s, abs=0.3)
