"""Dynamic partitions: tracks (by slug) and events (``{slug}-{event_id}``), added only on request."""

import dagster as dg

track_partitions = dg.DynamicPartitionsDefinition(name="track")
event_partitions = dg.DynamicPartitionsDefinition(name="event")
