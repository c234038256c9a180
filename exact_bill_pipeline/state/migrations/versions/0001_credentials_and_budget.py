"""Encrypted credentials and the API call budget.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("ciphertext", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "call_budget",
        sa.Column("scope", sa.String(200), primary_key=True),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("period_calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("minute_start", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("minute_calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("server_day_remaining", sa.Integer, nullable=True),
        sa.Column("server_day_reset_ms", sa.BigInteger, nullable=True),
        sa.Column("server_minute_remaining", sa.Integer, nullable=True),
        sa.Column("server_minute_reset_ms", sa.BigInteger, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("call_budget")
    op.drop_table("credentials")
