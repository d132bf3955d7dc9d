"""Serving engines in their own environments, the serve job, and the smoke test against a running server."""
