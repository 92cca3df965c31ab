"""The release step of a deployment: ``python -m mre_pipeline.instance.release``, once per upgrade.

Run it before the new version's services start (a Kubernetes Job or Helm hook, a one-shot Compose service,
``deploy/local/up.sh``), with the services' environment. It does what ``mre-pipeline dev`` does before it
starts Dagster on one machine:

1. the warehouse migrations, exactly ``mre-pipeline db upgrade`` (creates both databases when missing);
2. Dagster's own storage migrations (``dagster instance migrate``), on the instance in ``DAGSTER_HOME``;
3. the pool limits: ``timing_sources`` from ``MRE_TIMING_SOURCE_SLOTS`` (see ``pools.py``), and ``dbt`` at
   one slot unless an operator set it (an instance without ``concurrency.pools.default_limit``, such as
   the Helm chart's, would otherwise leave it unlimited, and concurrent ``dbt build`` deadlocks); then the
   pool slots still held by runs that ended while no daemon watched.

Exit code 0 when all is done, 1 with one line on stderr otherwise.
"""

from __future__ import annotations

import sys

import dagster as dg

from mre_pipeline import cli
from mre_pipeline.instance.pools import ensure_pool_limits
from mre_pipeline.pipeline_status import free_slots_of_finished_runs
from mre_pipeline.warehouse import server

DBT_POOL = "dbt"  # mre_pipeline.defs.summaries.DBT_POOL (not imported: that module parses the dbt project)


def ensure_dbt_pool_limit(event_storage) -> dict[str, int]:
    """One slot for ``dbt`` unless someone set its limit; returns what it set."""
    pool = {p.name: p for p in event_storage.get_pool_limits()}.get(DBT_POOL)
    if pool is not None and not pool.from_default:
        return {}
    event_storage.set_concurrency_slots(DBT_POOL, 1)
    return {DBT_POOL: 1}


def release() -> int:
    code = cli.main(["db", "upgrade"])
    if code:
        return code
    with dg.DagsterInstance.get() as instance:
        instance.upgrade(print_fn=lambda _line: None)
        print(f"Dagster storage current (the instance in {instance.root_directory})")
        changed = {
            **ensure_pool_limits(instance.event_log_storage),
            **ensure_dbt_pool_limit(instance.event_log_storage),
        }
    for pool, slots in changed.items():
        print(f"pool {pool}: {slots} slot(s)")
    freed = free_slots_of_finished_runs(server.resolve_urls().dagster)
    if freed:
        print(f"gave back the pool slots of {len(freed)} ended run(s)")
    return 0


def main() -> int:
    try:
        return release()
    except Exception as exc:  # noqa: BLE001 - one clear line for the operator, as the CLI does
        print(f"release: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
