"""intake spools

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intake_spools',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('moved_upto', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_intake_spools'))
    )


def downgrade() -> None:
    op.drop_table('intake_spools')
