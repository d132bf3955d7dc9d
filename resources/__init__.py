"""Packaged resources: stylesheet, icons and translation sources."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TRANSLATIONS = ROOT / "translations"
