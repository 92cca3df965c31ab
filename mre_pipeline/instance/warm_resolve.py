"""Imported last by the warm run-worker process (warm_start.py): resolve the preloaded code locations.

Importing a code location builds its ``Definitions``; turning them into the repository and its jobs is done
lazily, on first use, and would otherwise be repeated by every run worker forked from that process.
Dagster caches both on the objects, so doing it here once leaves every forked worker only the run itself.
"""

from __future__ import annotations

import sys

import dagster as dg


def resolve_loaded_definitions() -> int:
    """Resolve the repository and jobs of every loaded module's ``defs``; how many there were."""
    resolved = 0
    for module in list(sys.modules.values()):
        defs = getattr(module, "defs", None)
        if isinstance(defs, dg.Definitions):
            defs.get_repository_def().get_all_jobs()
            resolved += 1
    return resolved


resolve_loaded_definitions()
