"""Reconciliation against Exact: the mirrored TransactionLines, Exact's deletions, runs and their findings.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exact_transaction_lines",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("entry_number", sa.Integer(), nullable=True),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("journal_code", sa.String(length=20), nullable=False),
        sa.Column("entry_type", sa.Integer(), nullable=True),
        sa.Column("line_date", sa.Date(), nullable=True),
        sa.Column("gl_account_code", sa.String(length=40), nullable=True),
        sa.Column("cost_center", sa.String(length=40), nullable=True),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=True),
        sa.Column("your_ref", sa.String(length=200), nullable=True),
        sa.Column("invoice_number", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("row_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("seen_in_read", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_exact_transaction_lines_entry_id", "exact_transaction_lines", ["entry_id"])
    op.create_table(
        "exact_deletions",
        sa.Column("entity_key", sa.String(length=36), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.String(length=36), nullable=True),
        sa.Column("found_by", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entity_key"),
    )
    op.create_table(
        "reconciliations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("full_read", sa.Boolean(), nullable=False),
        sa.Column("lines_read", sa.Integer(), nullable=False),
        sa.Column("deletions_read", sa.Integer(), nullable=False),
        sa.Column("exact_calls", sa.Integer(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("entries_in_scope", sa.Integer(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "reconciliation_findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reconciliation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source_kind", sa.String(length=20), nullable=True),
        sa.Column("source_id", sa.String(length=40), nullable=True),
        sa.Column("vendor", sa.Text(), nullable=True),
        sa.Column("invoice", sa.String(length=200), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("bill_amount", sa.Numeric(18, 2), nullable=True),
        sa.Column("exact_amount", sa.Numeric(18, 2), nullable=True),
        sa.Column("entries", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("differences", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reconciliation_findings_reconciliation_id", "reconciliation_findings",
                    ["reconciliation_id"])


def downgrade() -> None:
    op.drop_index("ix_reconciliation_findings_reconciliation_id", table_name="reconciliation_findings")
    op.drop_table("reconciliation_findings")
    op.drop_table("reconciliations")
    op.drop_table("exact_deletions")
    op.drop_index("ix_exact_transaction_lines_entry_id", table_name="exact_transaction_lines")
    op.drop_table("exact_transaction_lines")
