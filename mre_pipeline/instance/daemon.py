"""``dagster-daemon`` with a sensor loop of ``MRE_SENSOR_LOOP_S`` (1 s) instead of Dagster's fixed 5 s.

Dagster's sensor daemon starts its next pass only 5 s after the previous one began
(``dagster._daemon.sensor.MIN_INTERVAL_LOOP_TIME``, not configurable), whatever a sensor's
``minimum_interval_seconds`` says: a racer's request waited 2.5 s on average, and up to 5 s, before the
request sensor even looked at it, which is most of the gap between a request and Dagster's own no-op run.
This entry point sets that one constant and runs Dagster's own daemon CLI unchanged, so every argument of
``dagster-daemon`` works here (``python -m mre_pipeline.instance.daemon run -w workspace.yaml``). Plain
``dagster-daemon run`` still works; its sensors are only slower to react.
"""

from __future__ import annotations

import dagster._daemon.sensor as sensor_daemon
from dagster._daemon.cli import main as dagster_daemon_main

from mre_pipeline import settings


def main() -> None:
    sensor_daemon.MIN_INTERVAL_LOOP_TIME = settings.sensor_loop_s()
    dagster_daemon_main()


if __name__ == "__main__":
    main()
