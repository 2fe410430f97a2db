"""PostgreSQL: keep intake events' parsed alerts as json text, not jsonb

The intake hot path writes them and only triage reads them back whole; nothing queries
inside them. `json` stores the text after a validity check, where `jsonb` builds a binary
tree: for 100-alert bodies that was the largest cost of each commit on the server.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE intake_events ALTER COLUMN alerts TYPE json, "
                   "ALTER COLUMN result TYPE json")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE intake_events ALTER COLUMN alerts TYPE jsonb, "
                   "ALTER COLUMN result TYPE jsonb")
