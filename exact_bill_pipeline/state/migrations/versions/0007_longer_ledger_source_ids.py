"""The posting ledger's source IDs may be two BILL IDs: a vendor credit applied in a payment is a document of its
own, keyed by the payment's and the credit's IDs (domain.payments.credit_application_id).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite changes a column's type only by copying the table.
    with op.batch_alter_table("posting_ledger") as batch:
        batch.alter_column("source_id", existing_type=sa.String(length=40), type_=sa.String(length=80),
                           existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("posting_ledger") as batch:
        batch.alter_column("source_id", existing_type=sa.String(length=80), type_=sa.String(length=40),
                           existing_nullable=False)
