"""Dagster instance plug-ins named in ``dagster.yaml`` (loaded by the webserver and the daemon, not by runs)."""
