"""mark the open alerts that match an inhibition rule's source, so triage reads only those

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.add_column(sa.Column("inhibit_source", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_index("ix_alert_inhibit_source", "alerts", ["id"],
                    postgresql_where=sa.text("inhibit_source AND status <> 'resolved'"),
                    sqlite_where=sa.text("inhibit_source AND status <> 'resolved'"))
    # Unknown until triage recomputes the marks for the current rules (it does so whenever
    # the rules differ from the ones the marks were computed for).
    op.execute("DELETE FROM settings WHERE key = 'triage.inhibit_sources_for'")


def downgrade() -> None:
    op.drop_index("ix_alert_inhibit_source", "alerts")
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.drop_column("inhibit_source")
