"""Request queue: a `source` per request, and the web app may write only its own columns.

The pipeline owns status, status_detail, partition_key, dagster_run_id and the timestamps. Column-level
INSERT privileges make a forged row (say `status='queued'` with a `partition_key`, or `succeeded` outright)
impossible for `mre_webapp`, instead of merely handled. Analysts keep reading the queue, but not
`requested_by` (which user asked for what).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

WEBAPP_COLUMNS = (
    "source",
    "request_type",
    "track_slug",
    "source_event_id",
    "held_between_start",
    "held_between_end",
    "requested_by",
    "force",
)
ANALYST_COLUMNS = (
    "request_id",
    "source",
    "request_type",
    "track_slug",
    "source_event_id",
    "held_between_start",
    "held_between_end",
    "force",
    "status",
    "status_detail",
    "dagster_run_id",
    "partition_key",
    "created_at",
    "updated_at",
    "queued_at",
    "started_at",
    "finished_at",
)

UPGRADE = f"""
ALTER TABLE mre.ingestion_requests ADD COLUMN source text NOT NULL DEFAULT 'liverc';
COMMENT ON COLUMN mre.ingestion_requests.source IS
    'Timing source of the request: liverc (default) or everlaps. Unknown sources are rejected with a reason.';
ALTER TABLE mre.ingestion_requests ADD CONSTRAINT ingestion_requests_source_valid CHECK (
    status IN ('pending', 'rejected') OR source IN ('liverc', 'everlaps'));
ALTER TABLE mre.ingestion_requests ADD CONSTRAINT ingestion_requests_detail_bounded CHECK (
    char_length(status_detail) <= 2000);

REVOKE INSERT ON mre.ingestion_requests FROM mre_webapp;
GRANT INSERT ({", ".join(WEBAPP_COLUMNS)}) ON mre.ingestion_requests TO mre_webapp;

REVOKE SELECT ON mre.ingestion_requests FROM mre_analyst;
GRANT SELECT ({", ".join(ANALYST_COLUMNS)}) ON mre.ingestion_requests TO mre_analyst;

COMMENT ON TABLE mre.ingestion_requests IS 'Request queue: the web app inserts rows (source, request_type, '
    'track_slug, source_event_id or held_between_*, requested_by, force); everything else belongs to the pipeline '
    'and cannot be written by mre_webapp.';
"""

DOWNGRADE = """
REVOKE SELECT ON mre.ingestion_requests FROM mre_analyst;
GRANT SELECT ON mre.ingestion_requests TO mre_analyst;
REVOKE INSERT ON mre.ingestion_requests FROM mre_webapp;
GRANT INSERT ON mre.ingestion_requests TO mre_webapp;
ALTER TABLE mre.ingestion_requests DROP CONSTRAINT ingestion_requests_detail_bounded;
ALTER TABLE mre.ingestion_requests DROP CONSTRAINT ingestion_requests_source_valid;
ALTER TABLE mre.ingestion_requests DROP COLUMN source;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
