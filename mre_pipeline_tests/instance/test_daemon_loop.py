"""`python -m mre_pipeline.instance.daemon` is Dagster's daemon CLI with the sensor loop from the environment."""

from __future__ import annotations

import subprocess
import sys

import dagster._daemon.sensor as sensor_daemon
import pytest

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
