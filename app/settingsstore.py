"""The one owner of the user's settings in the GUI process: the window and every panel write
through it, so no writer overwrites fields another one saved."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from services.settings import Settings, load_settings, save_settings


class SettingsStore(QObject):
    """Holds the live `Settings`; `update(fn)` changes them in place, saves, then emits `changed`."""

    changed = Signal(object)  # the Settings

    def __init__(self, settings: Settings | None = None, path: Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.path = path  # None: services.settings.settings_path() (QUANTDESK_HOME aware)
        self._settings = settings if settings is not None else load_settings(path)

    @property
    def current(self) -> Settings:
        """The live settings (read them here; change them through `update`)."""
        return self._settings

    def update(self, change: Callable[[Settings], None]) -> Settings:
        """Apply `change(settings)`, save to disk and emit `changed`; return the settings."""
        change(self._settings)
        self.save()
        self.changed.emit(self._settings)
        return self._settings

    def save(self) -> Path:
        return save_settings(self._settings, self.path)
