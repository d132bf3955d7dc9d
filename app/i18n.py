"""Qt translations: compile resources/translations/*.ts to .qm at first use and install them."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

import resources
from services.paths import user_dirs
from services.runtime.runtime import current_runtime

log = logging.getLogger("quantdesk.i18n")

_installed: list[QTranslator] = []


def _lrelease() -> str | None:
    """The lrelease tool shipped with PySide6, or one on PATH."""
    import shutil

    import PySide6

    pyside = Path(PySide6.__file__).parent
    for name in ("lrelease", "lrelease.exe"):
        cand = pyside / name
        if cand.exists():
            return str(cand)
    scripts = Path(current_runtime().python).parent  # the environment's Scripts/bin
    exe = scripts / ("pyside6-lrelease.exe" if sys.platform == "win32" else "pyside6-lrelease")
    return str(exe) if exe.exists() else shutil.which("pyside6-lrelease") or shutil.which("lrelease")


def compiled_qm(language: str, out_dir: Path | None = None) -> Path | None:
    """Return the .qm for `language`, compiling its .ts when the .qm is missing or older."""
    ts = resources.TRANSLATIONS / f"quantdesk_{language}.ts"
    shipped = ts.with_suffix(".qm")  # a build (the installer) ships it precompiled, without lrelease
    if shipped.exists() and (getattr(sys, "frozen", False) or not ts.exists()
                             or shipped.stat().st_mtime >= ts.stat().st_mtime):
        return shipped
    if not ts.exists():
        return None
    out_dir = out_dir or user_dirs().cache / "translations"
    out_dir.mkdir(parents=True, exist_ok=True)
    qm = out_dir / ts.with_suffix(".qm").name
    if qm.exists() and qm.stat().st_mtime >= ts.stat().st_mtime:
        return qm
    from services.runtime import process

    tool = _lrelease()
    if not tool:
        log.warning("lrelease not found; the interface stays in English")
        return None
    proc = process.run([tool, "-silent", str(ts), "-qm", str(qm)], timeout=120)
    if proc.returncode != 0 or not qm.exists():
        log.warning("lrelease failed for %s: %s", ts.name, proc.stderr.strip())
        return None
    return qm


_running = ["en"]


def running_language() -> str:
    """The language the interface runs in now (it changes only at a restart)."""
    return _running[0]


def install_translation(app: QCoreApplication, language: str) -> bool:
    """Install QuantDesk's and Qt's own translators for `language`; English needs none."""
    _running[0] = language
    for t in _installed:
        app.removeTranslator(t)
    _installed.clear()
    if language == "en":
        return True
    ok = False
    qm = compiled_qm(language)
    if qm:
        t = QTranslator(app)
        if t.load(str(qm)):
            app.installTranslator(t)
            _installed.append(t)
            ok = True
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    qt = QTranslator(app)
    if qt.load(QLocale(language), "qtbase", "_", qt_dir):
        app.installTranslator(qt)
        _installed.append(qt)
    if not ok:
        log.warning("no translation for %s; the interface stays in English", language)
    return ok
