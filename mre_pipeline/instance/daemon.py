"""``dagster-daemon`` with a sensor loop of ``MRE_SENSOR_LOOP_S`` (1 s) instead of Dagster's fixed 5 s.

Dagster's sensor daemon starts its next pass only 5 s after the previous one began
(``dagster._daemon.sensor.MIN_INTERVAL_LOOP_TIME``, not configurable), whatever a sensor's
``minimum_interval_seconds`` says: a racer's request waited 2.5 s on average, and up to 5 s, before the
request sensor even looked at it, which is most of the gap between a request and Dagster's own no-op run.
This entry point sets that one constant and runs Dagster's own daemon CLI unchanged, so every argument of
``dagster-daemon`` works here (``python -m mre_pipeline.instance.daemon run -w workspace.yaml``). Plain
``dagster-daemon run`` still works; its sensors are only slower to react. It also starts preloading the
warm run workers (instance/warm_start.py) at once, so that the first runs start warm.

It also counts a sensor as due when its minimum interval will have passed within half a loop. Dagster
measures the interval at the start of each pass against the *start of the previous tick*, which came a few
milliseconds after the start of its own pass: with a 1 s loop and a 1 s interval the sensor was nearly always
"0.99 s" from due and ticked every 2 s, a 2 s interval every 3 s. Rounding to the nearest pass makes a
sensor tick at its interval (a multiple of the loop), never more often.
"""

from __future__ import annotations

import logging

import dagster._daemon.sensor as sensor_daemon
from dagster import DagsterInstance
from dagster._core.remote_representation.external import RemoteSensor
from dagster._core.scheduler.instigation import InstigatorState
from dagster._daemon.cli import main as dagster_daemon_main

from mre_pipeline import settings


def main() -> None:
    sensor_daemon.MIN_INTERVAL_LOOP_TIME = settings.sensor_loop_s()
    sensor_daemon.is_under_min_interval = is_under_min_interval
    _warm_up_run_workers()
    dagster_daemon_main()


def is_under_min_interval(
    state: InstigatorState, remote_sensor: RemoteSensor, minimum_allowed_min_interval: int | None = None
) -> bool:
    """Dagster's check, with half a loop of slack: not due only if its interval is more than that away."""
    elapsed = sensor_daemon.get_elapsed(state)
    min_interval = max(remote_sensor.min_interval_seconds or 0, minimum_allowed_min_interval or 0)
    if elapsed is None or not min_interval:
        return False
    return elapsed < min_interval - sensor_daemon.MIN_INTERVAL_LOOP_TIME / 2


def _warm_up_run_workers() -> None:
    """Preload the warm run workers while the daemon starts, so that the first runs start warm too."""
    try:
        with DagsterInstance.get() as instance:
            warm_up = getattr(instance.run_launcher, "warm_up", None)
            if warm_up is not None:
                warm_up()
    except Exception:  # noqa: BLE001 - without it the first runs start cold; the daemon must still start
        logging.getLogger(__name__).exception("could not preload the run workers")


if __name__ == "__main__":
    main()
