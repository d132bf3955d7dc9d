"""Deployment targets: turn a model folder into what a serving engine takes in."""
