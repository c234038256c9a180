"""The state database's tables, as SQLAlchemy Core metadata; Alembic migrations create them."""

from __future__ import annotations

import sqlalchemy as sa

# Not alembic's default "alembic_version": Dagster's PostgreSQL storage keeps its own revision there, so the
# two can share one database.
VERSION_TABLE = "exact_bill_schema_version"
metadata = sa.MetaData()

# One row per secret (an Exact token pair, a BILL session, a webhook security key). Only ciphertext is
# stored; the row is also the lock that makes Exact's token refresh single-flight across processes.
credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("ciphertext", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# API calls spent per scope (an Exact division's day, a BILL organization's logins in an hour) and
# period key (the day or the hour), shared by every run.
call_budget = sa.Table(
    "call_budget",
    metadata,
    sa.Column("scope", sa.String(200), primary_key=True),
    sa.Column("period", sa.String(20), nullable=False),
    sa.Column("period_calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("minute_start", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("minute_calls", sa.Integer, nullable=False, server_default="0"),
    # What the server last said, which wins over our own count when it is lower.
    sa.Column("server_day_remaining", sa.Integer, nullable=True),
    sa.Column("server_day_reset_ms", sa.BigInteger, nullable=True),
    sa.Column("server_minute_remaining", sa.Integer, nullable=True),
    sa.Column("server_minute_reset_ms", sa.BigInteger, nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Where each incremental read left off: Exact sync Timestamps, BILL updatedTime cursors.
sync_cursors = sa.Table(
    "sync_cursors",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Exact reference data as last read, deduplicated.
exact_gl_accounts = sa.Table(
    "exact_gl_accounts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("code", sa.String(40), nullable=False, index=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("type", sa.Integer, nullable=True),
    sa.Column("balance_type", sa.String(1), nullable=True),
    sa.Column("is_blocked", sa.Boolean, nullable=False),
    sa.Column("use_costcenter", sa.Integer, nullable=True),
    sa.Column("row_timestamp", sa.BigInteger, nullable=True),
    sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("vat_code", sa.String(10), nullable=True),
)

# Exact's VAT codes, read whole with the GL accounts (codes without their padding).
exact_vat_codes = sa.Table(
    "exact_vat_codes",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("code", sa.String(10), nullable=False, index=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("type", sa.String(1), nullable=True),
    sa.Column("percentage", sa.Numeric(9, 6), nullable=False),
    sa.Column("gl_to_claim_code", sa.String(40), nullable=True),
    sa.Column("is_blocked", sa.Boolean, nullable=False),
    sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
)

# A person's VAT decisions per Exact GL account: the code to send ("none": no VAT), and whether BILL's amounts
# include it. Accounts without one follow the default (EXACT_VAT_CODE, EXACT_AMOUNTS_INCLUDE_VAT).
vat_rules = sa.Table(
    "vat_rules",
    metadata,
    sa.Column("gl_code", sa.String(40), primary_key=True),
    sa.Column("vat_code", sa.String(10), nullable=True),
    sa.Column("amounts_include_vat", sa.Boolean, nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

exact_cost_centers = sa.Table(
    "exact_cost_centers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("code", sa.String(40), nullable=False, index=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
)

exact_suppliers = sa.Table(
    "exact_suppliers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("code", sa.String(40), nullable=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("vat_number", sa.String(60), nullable=True),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("is_supplier", sa.Boolean, nullable=False),
    sa.Column("blocked", sa.Boolean, nullable=False),
    sa.Column("row_timestamp", sa.BigInteger, nullable=True),
    sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),    sa.Column("city", sa.Text, nullable=True),
)

# Which BILL record maps to which Exact record; rewritten by the account_mapping asset.
account_mapping = sa.Table(
    "account_mapping",
    metadata,
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("bill_id", sa.String(40), primary_key=True),
    sa.Column("bill_label", sa.Text, nullable=False),
    sa.Column("exact_id", sa.String(36), nullable=True),
    sa.Column("exact_code", sa.String(40), nullable=True),
    sa.Column("source", sa.String(20), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# A person's mapping decisions (CLI or CSV); they win over matching by code or name.
mapping_overrides = sa.Table(
    "mapping_overrides",
    metadata,
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("bill_key", sa.String(80), primary_key=True),
    sa.Column("exact_code", sa.String(40), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# How each BILL vendor was matched to an Exact supplier (or why it was not).
vendor_matches = sa.Table(
    "vendor_matches",
    metadata,
    sa.Column("vendor_id", sa.String(40), primary_key=True),
    sa.Column("vendor_name", sa.Text, nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("method", sa.String(20), nullable=True),
    sa.Column("supplier_id", sa.String(36), nullable=True),
    sa.Column("candidates", sa.Text, nullable=True),
    sa.Column("tried", sa.Text, nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# The last snapshot read of each BILL bill and payment.
bill_snapshots = sa.Table(
    "bill_snapshots",
    metadata,
    sa.Column("source_kind", sa.String(20), primary_key=True),
    sa.Column("source_id", sa.String(40), primary_key=True),
    sa.Column("partition_date", sa.String(10), nullable=False, index=True),
    sa.Column("amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("status", sa.String(40), nullable=True),
    sa.Column("archived", sa.Boolean, nullable=False),
    sa.Column("updated_time", sa.String(40), nullable=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("snapshot", sa.Text, nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
)

# The exactly-once ledger: intent before the POST, Exact's EntryID after it.
posting_ledger = sa.Table(
    "posting_ledger",
    metadata,
    sa.Column("source_kind", sa.String(20), primary_key=True),
    sa.Column("source_id", sa.String(80), primary_key=True),  # two BILL IDs for a credit application
    sa.Column("partition_date", sa.String(10), nullable=False, index=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("exact_entry_id", sa.String(36), nullable=True, unique=True),
    sa.Column("entry_number", sa.Integer, nullable=True),
    sa.Column("journal", sa.String(20), nullable=False),
    sa.Column("supplier_id", sa.String(36), nullable=True),
    sa.Column("lookup_ref", sa.String(200), nullable=True),
    sa.Column("amount", sa.Numeric(18, 2), nullable=False),
    # What was posted, to show the difference when the source changes afterwards.
    sa.Column("posted_content", sa.Text, nullable=True),
    # The payload as it was sent, never overwritten while it may be in Exact: look-ups after a doubt use it.
    sa.Column("sent_payload", sa.Text, nullable=True),
    # The caller (posting_claimants.id) that holds the document; its claim lives as long as its lease.
    sa.Column("claimed_by", sa.String(32), nullable=True),
    # For a posting in doubt: after this moment Exact has certainly finished with what was sent.
    sa.Column("settle_after", sa.DateTime(timezone=True), nullable=True),
    sa.Column("lookups", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Who is posting right now: each caller (a Dagster run, a CLI replay) on a lease it renews while it works.
# A claim on a document lives as long as its caller's lease; the process ID lets a caller on the same host
# see that a claimant died without waiting for its lease to run out.
posting_claimants = sa.Table(
    "posting_claimants",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False, index=True),
    sa.Column("host", sa.String(200), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
)

# What could not be posted, why, and what happened to it since.
failure_queue = sa.Table(
    "failure_queue",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_kind", sa.String(20), nullable=False),
    sa.Column("source_id", sa.String(40), nullable=False),
    sa.Column("partition_date", sa.String(10), nullable=False, index=True),
    sa.Column("reason_code", sa.String(40), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("exact_message", sa.Text, nullable=True),
    sa.Column("snapshot", sa.Text, nullable=False),
    sa.Column("tried", sa.Text, nullable=True),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.UniqueConstraint("source_kind", "source_id", name="uq_failure_queue_source"),
)

# Append-only: every state change of a bill, a mapping row or a queue item, with who, when, before, after.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("entity_kind", sa.String(40), nullable=False),
    sa.Column("entity_id", sa.String(80), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("before", sa.Text, nullable=True),
    sa.Column("after", sa.Text, nullable=True),
    sa.Index("ix_audit_log_entity", "entity_kind", "entity_id"),
)

# Verified webhook events, stored before the sender gets its 200; the inbox sensor reads them in id order.
webhook_inbox = sa.Table(
    "webhook_inbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("event_id", sa.String(100), nullable=False),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("entity_key", sa.String(100), nullable=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("source", "event_id", name="uq_webhook_inbox_event"),
)

# Short leases, timed by the database's own clock (processes on different machines disagree about time): the
# Exact token refresh is single-flight across processes without a transaction open while it waits on Exact.
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),  # seconds since the epoch, by the database's clock
)

# What Exact holds: the TransactionLines of the connector's journals (and of purchase entries in any journal,
# where a bill typed by hand lands), mirrored through the sync endpoint by their row version (Timestamp).
exact_transaction_lines = sa.Table(
    "exact_transaction_lines",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("entry_id", sa.String(36), nullable=False, index=True),
    sa.Column("entry_number", sa.Integer, nullable=True),
    sa.Column("line_number", sa.Integer, nullable=False),
    sa.Column("journal_code", sa.String(20), nullable=False),
    sa.Column("entry_type", sa.Integer, nullable=True),
    sa.Column("line_date", sa.Date, nullable=True),
    sa.Column("gl_account_code", sa.String(40), nullable=True),
    sa.Column("cost_center", sa.String(40), nullable=True),
    sa.Column("account_id", sa.String(36), nullable=True),
    sa.Column("amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("currency", sa.String(8), nullable=True),
    sa.Column("your_ref", sa.String(200), nullable=True),
    sa.Column("invoice_number", sa.BigInteger, nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    # Exact's own Created: an entry typed by hand counts as the connector's only after its first posting.
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("row_timestamp", sa.BigInteger, nullable=False),
    # The read that last saw the line: what a full re-read does not see again, Exact no longer has.
    sa.Column("seen_in_read", sa.Integer, nullable=False),
)

# Lines or entries Exact deleted: from sync/Deleted, or missing from a full re-read after its log ran out.
exact_deletions = sa.Table(
    "exact_deletions",
    metadata,
    sa.Column("entity_key", sa.String(36), primary_key=True),
    sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("deleted_by", sa.String(36), nullable=True),
    sa.Column("found_by", sa.String(20), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

# Each reconciliation against Exact: what it read, what it spent and how many findings of each kind.
reconciliations = sa.Table(
    "reconciliations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("full_read", sa.Boolean, nullable=False),
    sa.Column("lines_read", sa.Integer, nullable=False),
    sa.Column("deletions_read", sa.Integer, nullable=False),
    sa.Column("exact_calls", sa.Integer, nullable=False),
    sa.Column("documents", sa.Integer, nullable=False),
    sa.Column("expected", sa.Integer, nullable=False),
    sa.Column("entries_in_scope", sa.Integer, nullable=False),
    sa.Column("counts", sa.Text, nullable=False),
)

# The findings of the latest reconciliation, each with the bill, the vendor and the amounts.
reconciliation_findings = sa.Table(
    "reconciliation_findings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("reconciliation_id", sa.Integer, nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("source_kind", sa.String(20), nullable=True),
    sa.Column("source_id", sa.String(40), nullable=True),
    sa.Column("vendor", sa.Text, nullable=True),
    sa.Column("invoice", sa.String(200), nullable=True),
    sa.Column("day", sa.Date, nullable=True),
    sa.Column("bill_amount", sa.Numeric(18, 2), nullable=True),
    sa.Column("exact_amount", sa.Numeric(18, 2), nullable=True),
    sa.Column("entries", sa.Text, nullable=True),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("differences", sa.Text, nullable=True),
)
