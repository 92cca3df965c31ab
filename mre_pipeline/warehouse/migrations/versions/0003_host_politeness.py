"""The politeness ledger: when each timing-source host last answered us, shared by all workers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE mre.host_politeness (
            host                text PRIMARY KEY,
            last_response_end   timestamptz NOT NULL,
            requests            bigint NOT NULL DEFAULT 0 CHECK (requests >= 0)
        );
        COMMENT ON TABLE mre.host_politeness IS 'Per-host politeness ledger (warehouse/politeness.py): every '
            'process that fetches from a timing source waits its turn here, so a host never sees two requests '
            'closer than the minimum interval, however many workers run.';
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE mre.host_politeness")
