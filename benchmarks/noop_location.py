"""A one-asset code location: Dagster's floor for the on-demand benchmark (benchmarks/on_demand.py).

The asset does nothing; everything else is what an ingestion run has too: the same instance and run queue,
the same run launcher, one process with the in-process executor, a pool slot claimed and given back.
"""

import dagster as dg


@dg.asset(pool="benchmark_noop")
def noop_asset() -> None:
    return None


noop_job = dg.define_asset_job("noop_job", selection=[noop_asset])

defs = dg.Definitions(assets=[noop_asset], jobs=[noop_job], executor=dg.in_process_executor)
