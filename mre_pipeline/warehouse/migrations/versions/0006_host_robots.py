"""robots.txt answers shared by every run: one fetch per site a day, not one per run.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE mre.host_robots (
            site        text PRIMARY KEY,
            status      integer NOT NULL CHECK (status IN (200, 403, 404)),
            body        text NOT NULL DEFAULT '',
            fetched_at  timestamptz NOT NULL
        );
        COMMENT ON TABLE mre.host_robots IS 'Each timing-source site''s robots.txt as last fetched '
            '(warehouse/politeness.py): runs read it here for a day (robots_ttl_s) instead of fetching it again.';
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE mre.host_robots")
