"""A code location for test_warm_start.py: one quick job and one that waits until it is interrupted."""

import os
import time

import dagster as dg

PID_FILE_ENV = "MRE_TEST_WARM_PID_FILE"


@dg.asset
def quick() -> None:
    with open(os.environ[PID_FILE_ENV], "w") as out:
        out.write(f"{os.getpid()} {os.getppid()}")


@dg.asset
def waits() -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.1)


defs = dg.Definitions(
    assets=[quick, waits],
    jobs=[
        dg.define_asset_job("quick_job", selection=[quick]),
        dg.define_asset_job("waits_job", selection=[waits]),
    ],
    executor=dg.in_process_executor,
)
