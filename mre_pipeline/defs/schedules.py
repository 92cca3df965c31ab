"""The only proactive fetch: the track catalogue, daily, on by default."""

import dagster as dg

from mre_pipeline import settings

track_catalogue_job = dg.define_asset_job("track_catalogue_job", selection=["track_catalogue"])

track_catalogue_schedule = dg.ScheduleDefinition(
    name="track_catalogue_daily",
    job=track_catalogue_job,
    cron_schedule=settings.catalogue_cron(),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh the LiveRC track catalogue once a day (MRE_CATALOGUE_CRON).",
)
