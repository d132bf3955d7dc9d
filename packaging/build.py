"""Build the onedir folder (PyInstaller) and, where makensis is found, the Windows installer.

    python packaging/build.py [--dist DIR] [--no-installer]

dist/QuantDesk/ holds QuantDesk (windowed) and quantdesk (console; quantdesk.com on Windows); the
translations are compiled to .qm first. makensis (NSIS; Debian's `nsis` package on Linux) compiles
packaging/installer.nsi over that folder into dist/QuantDesk-<version>-setup.exe. On Linux the installer
is only proof that the script compiles: its payload is the Linux build.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def compile_translations(out: Path) -> list[Path]:
    from app.i18n import _lrelease

    out.mkdir(parents=True, exist_ok=True)
    tool = _lrelease()
    if not tool:
        raise SystemExit("lrelease not found (it comes with PySide6): cannot compile the translations")
    made = []
    for ts in sorted((ROOT / "resources" / "translations").glob("*.ts")):
        qm = out / ts.with_suffix(".qm").name
        subprocess.run([tool, "-silent", str(ts), "-qm", str(qm)], check=True)
        made.append(qm)
    return made


def build(dist: Path, work: Path) -> Path:
    compile_translations(ROOT / "build" / "qm")
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", str(dist), "--workpath", str(work), str(ROOT / "packaging" / "quantdesk.spec")],
                   check=True, cwd=ROOT)
    folder = dist / "QuantDesk"
    console = folder / "quantdesk-console.exe"
    if console.exists():  # Windows: quantdesk.com (console) beside QuantDesk.exe (windowed)
        console.replace(folder / "quantdesk.com")
    return folder


def installer(folder: Path, dist: Path, compressor: str = "/SOLID lzma") -> Path | None:
    from services import __version__

    makensis = shutil.which("makensis")
    if not makensis:
        print("makensis not found: no installer (Debian: apt-get install nsis; Windows: NSIS 3)", file=sys.stderr)
        return None
    out = dist / f"QuantDesk-{__version__}-setup.exe"
    subprocess.run([makensis, "-V2", f"-DVERSION={__version__}", f"-DPAYLOAD={folder}", f"-DOUTFILE={out}",
                    f"-DCOMPRESSOR={compressor}",
                    str(ROOT / "packaging" / "installer.nsi")], check=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dist", type=Path, default=ROOT / "dist")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller")
    ap.add_argument("--no-installer", action="store_true")
    ap.add_argument("--require-installer", action="store_true", help="fail when makensis is missing (CI)")
    ap.add_argument("--fast", action="store_true", help="zlib instead of solid LZMA (a larger installer, minutes "
                                                        "sooner: to check the script)")
    args = ap.parse_args()
    started = time.monotonic()
    folder = build(args.dist.resolve(), args.work.resolve())
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    print(f"onedir: {folder} ({size / 1e6:.0f} MB) in {time.monotonic() - started:.0f} s")
    if not args.no_installer:
        setup = installer(folder, args.dist.resolve(), "zlib" if args.fast else "/SOLID lzma")
        if setup:
            print(f"installer: {setup} ({setup.stat().st_size / 1e6:.0f} MB)")
        elif args.require_installer:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
