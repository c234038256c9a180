"""Keeps Exact Online (general ledger) and BILL (accounts payable) in sync, as a Dagster project."""
