"""The `mre_summaries` code location (``workspace.yaml``): the dbt lap summaries, their checks and sensor.

Kept apart from ``mre_pipeline.definitions`` so that ingestion runs never import dagster-dbt or read the
dbt manifest; the lineage event_results -> summaries still shows across the two locations, because the
dbt sources name their upstream asset keys.
"""

from mre_pipeline.defs.summaries import summaries_definitions
from mre_pipeline.instance import pool_wait

pool_wait.apply()  # every run worker of this location: a build waiting for the dbt slot sleeps, not spins
defs = summaries_definitions()
