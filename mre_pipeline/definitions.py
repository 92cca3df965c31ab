"""The code location Dagster loads (``workspace.yaml`` and ``[tool.dagster]`` point here)."""

from mre_pipeline.defs.build import build_definitions

defs = build_definitions()
