"""The connector's own database: encrypted credentials, call budgets and (later) ledger, queue and audit log."""
