"""Pure business rules, no I/O: dedupe, matching, mapping, bill and payment to journal entry, totals."""
