"""Refresh the .ts translation sources from the code: python resources/translations/update.py

Runs pyside6-lupdate over app/ and widgets/; new strings appear as unfinished entries to
translate (Qt Linguist, `pyside6-linguist`, or by hand). The app compiles .qm at first use.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LANGUAGES = ("zh_CN",)


def main() -> int:
    sources = sorted(str(p.relative_to(ROOT)) for d in ("app", "widgets") for p in (ROOT / d).rglob("*.py"))
    exe = Path(sys.executable).parent / "pyside6-lupdate"
    for lang in LANGUAGES:
        ts = HERE / f"quantdesk_{lang}.ts"
        cmd = [str(exe), "-no-obsolete", "-locations", "none", "-target-language", lang, *sources, "-ts", str(ts.relative_to(ROOT))]
        subprocess.run(cmd, cwd=ROOT, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
