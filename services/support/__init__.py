"""Support: the redacted bundle a user sends with a problem report."""
