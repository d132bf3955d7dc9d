"""Where quality goes: layer sensitivity scans (and, later, mixed precision and simulated precisions)."""
