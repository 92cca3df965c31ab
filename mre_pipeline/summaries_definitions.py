"""The `mre_summaries` code location (``workspace.yaml``): the dbt lap summaries, their checks and sensor.

Kept apart from ``mre_pipeline.definitions`` so that ingestion runs never import dagster-dbt or read the
dbt manifest; the lineage event_results -> summaries still shows across the two locations, because the
dbt sources name their upstream asset keys.
"""

from mre_pipeline.defs.summaries import summaries_definitions

defs = summaries_definitions()
