"""Source connectors: fetch and parse a timing source, return plain typed records.

Nothing here knows about Dagster, SQL or business rules. A new source (LiveTime, MyLaps, ...) is a new
sub-package implementing :class:`mre_pipeline.connectors.base.EventSource` (and, if it has them,
``TrackCatalogue`` and ``EventDiscovery``), keyed by :class:`mre_pipeline.connectors.records.EventRef`.
"""
