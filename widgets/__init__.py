"""Panels and reusable widgets. They render service data and emit user intent; no domain logic."""
