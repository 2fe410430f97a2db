"""incident numbers from a sequence on PostgreSQL

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE IF NOT EXISTS incident_number_seq")
        op.execute("SELECT setval('incident_number_seq', "
                   "GREATEST((SELECT COALESCE(MAX(number), 0) FROM incidents), 1), "
                   "(SELECT COUNT(*) > 0 FROM incidents))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS incident_number_seq")
