"""VAT: each GL account's own VAT code, Exact's VAT codes, and the VAT rules per GL account; suppliers' cities.

The GL accounts' and suppliers' sync cursors are reset, so the next sync reads every account again with its VAT
code, and every supplier with its city (a person tells candidate suppliers apart by it).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("exact_gl_accounts", sa.Column("vat_code", sa.String(length=10), nullable=True))
    op.add_column("exact_suppliers", sa.Column("city", sa.Text(), nullable=True))
    op.create_table(
        "exact_vat_codes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("type", sa.String(length=1), nullable=True),
        sa.Column("percentage", sa.Numeric(9, 6), nullable=False),
        sa.Column("gl_to_claim_code", sa.String(length=40), nullable=True),
        sa.Column("is_blocked", sa.Boolean(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_exact_vat_codes_code", "exact_vat_codes", ["code"])
    op.create_table(
        "vat_rules",
        sa.Column("gl_code", sa.String(length=40), nullable=False),
        sa.Column("vat_code", sa.String(length=10), nullable=True),
        sa.Column("amounts_include_vat", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("gl_code"),
    )
    op.execute("DELETE FROM sync_cursors WHERE name LIKE 'exact:gl_accounts:%' OR name LIKE 'exact:accounts:%'")


def downgrade() -> None:
    op.drop_table("vat_rules")
    op.drop_index("ix_exact_vat_codes_code", table_name="exact_vat_codes")
    op.drop_table("exact_vat_codes")
    op.drop_column("exact_suppliers", "city")
    op.drop_column("exact_gl_accounts", "vat_code")
