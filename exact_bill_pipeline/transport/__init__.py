"""One HTTP layer for both systems: timeouts, retries, rate-limit handling, redaction and the call budget."""
