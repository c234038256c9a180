"""The asset graph's tables: reference data, mapping, ledger, failure queue, audit log.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "account_mapping",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("bill_id", sa.String(length=40), nullable=False),
        sa.Column("bill_label", sa.Text(), nullable=False),
        sa.Column("exact_id", sa.String(length=36), nullable=True),
        sa.Column("exact_code", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "bill_id"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("entity_kind", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_log_entity", ["entity_kind", "entity_id"], unique=False)

    op.create_table(
        "bill_snapshots",
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("partition_date", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("updated_time", sa.String(length=40), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source_kind", "source_id"),
    )
    with op.batch_alter_table("bill_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bill_snapshots_partition_date"), ["partition_date"], unique=False)

    op.create_table(
        "exact_cost_centers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("exact_cost_centers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exact_cost_centers_code"), ["code"], unique=False)

    op.create_table(
        "exact_gl_accounts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("type", sa.Integer(), nullable=True),
        sa.Column("balance_type", sa.String(length=1), nullable=True),
        sa.Column("is_blocked", sa.Boolean(), nullable=False),
        sa.Column("use_costcenter", sa.Integer(), nullable=True),
        sa.Column("row_timestamp", sa.BigInteger(), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("exact_gl_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exact_gl_accounts_code"), ["code"], unique=False)

    op.create_table(
        "exact_suppliers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("vat_number", sa.String(length=60), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("is_supplier", sa.Boolean(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("row_timestamp", sa.BigInteger(), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "failure_queue",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("partition_date", sa.String(length=10), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("exact_message", sa.Text(), nullable=True),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("tried", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_kind", "source_id", name="uq_failure_queue_source"),
    )
    with op.batch_alter_table("failure_queue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_failure_queue_partition_date"), ["partition_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_failure_queue_status"), ["status"], unique=False)

    op.create_table(
        "mapping_overrides",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("bill_key", sa.String(length=80), nullable=False),
        sa.Column("exact_code", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "bill_key"),
    )
    op.create_table(
        "posting_ledger",
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("partition_date", sa.String(length=10), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("exact_entry_id", sa.String(length=36), nullable=True),
        sa.Column("entry_number", sa.Integer(), nullable=True),
        sa.Column("journal", sa.String(length=20), nullable=False),
        sa.Column("supplier_id", sa.String(length=36), nullable=True),
        sa.Column("lookup_ref", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("posted_content", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source_kind", "source_id"),
        sa.UniqueConstraint("exact_entry_id"),
    )
    with op.batch_alter_table("posting_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posting_ledger_partition_date"), ["partition_date"], unique=False)

    op.create_table(
        "sync_cursors",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "vendor_matches",
        sa.Column("vendor_id", sa.String(length=40), nullable=False),
        sa.Column("vendor_name", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("supplier_id", sa.String(length=36), nullable=True),
        sa.Column("candidates", sa.Text(), nullable=True),
        sa.Column("tried", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vendor_id"),
    )


def downgrade() -> None:

    op.drop_table("vendor_matches")
    op.drop_table("sync_cursors")
    with op.batch_alter_table("posting_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posting_ledger_partition_date"))

    op.drop_table("posting_ledger")
    op.drop_table("mapping_overrides")
    with op.batch_alter_table("failure_queue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_failure_queue_status"))
        batch_op.drop_index(batch_op.f("ix_failure_queue_partition_date"))

    op.drop_table("failure_queue")
    op.drop_table("exact_suppliers")
    with op.batch_alter_table("exact_gl_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exact_gl_accounts_code"))

    op.drop_table("exact_gl_accounts")
    with op.batch_alter_table("exact_cost_centers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exact_cost_centers_code"))

    op.drop_table("exact_cost_centers")
    with op.batch_alter_table("bill_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bill_snapshots_partition_date"))

    op.drop_table("bill_snapshots")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_entity")
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    op.drop_table("account_mapping")
