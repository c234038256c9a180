"""Claims and doubt: who is posting a document (on a lease), what was sent, and when a doubt can be settled.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posting_claimants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_posting_claimants_run_id", "posting_claimants", ["run_id"])
    with op.batch_alter_table("posting_ledger") as batch:
        batch.add_column(sa.Column("sent_payload", sa.Text(), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("settle_after", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lookups", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("posting_ledger") as batch:
        batch.drop_column("lookups")
        batch.drop_column("settle_after")
        batch.drop_column("claimed_by")
        batch.drop_column("sent_payload")
    op.drop_index("ix_posting_claimants_run_id", table_name="posting_claimants")
    op.drop_table("posting_claimants")
