"""The webhook receiver (an edge): verifies Exact and BILL deliveries and stores them in the inbox, fast."""
