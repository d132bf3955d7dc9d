"""Qt-free domain layer of QuantDesk (checked by an import-linter contract)."""

__version__ = "0.1.0"
