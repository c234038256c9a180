"""One HTTP layer for both systems: timeouts, retries, rate-limit handling and the call budget."""
