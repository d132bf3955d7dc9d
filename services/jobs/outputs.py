"""Job outputs: built at `<out>.partial`, moved into place only when the job succeeded.

An existing output is replaced by a swap after success (the old one is kept until the new one is
in place) and never when it is, contains or lies inside one of the job's inputs. A folder that is
not an earlier QuantDesk output (no quantdesk.json) is replaced only when the user confirmed it.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from services.messages import msg

MARKER = "quantdesk.json"
PARTIAL_MARKER = ".quantdesk-partial"  # inside every work folder a job made: only those are ever deleted
FOLDER, FILE = "folder", "file"


def partial_path(out: str | Path) -> Path:
    """Where a job builds `out` (a folder or a single file) before it is moved into place."""
    out = Path(out)
    return out.with_name(out.name + ".partial")


def is_our_partial(path: str | Path) -> bool:
    p = Path(path)
    return p.is_dir() and not p.is_symlink() and (p / PARTIAL_MARKER).is_file()


def make_partial(out: str | Path) -> Path:
    """A fresh work folder for `out` (one a QuantDesk job left behind is replaced; anything else is not)."""
    p = partial_path(out)
    if p.exists() or p.is_symlink():
        if not is_our_partial(p):
            raise FileExistsError(msg("{path} exists and was not made by QuantDesk; the job builds its output there: "
                                      "move or rename it", path=p))
        discard_partial(out)
    p.mkdir(parents=True)
    (p / PARTIAL_MARKER).write_text(str(os.getpid()), encoding="utf-8")
    return p


def discard_partial(out: str | Path) -> None:
    """Remove `out`'s work folder, if a QuantDesk job made it (a user's folder of that name is left alone)."""
    p = partial_path(out)
    if is_our_partial(p):
        shutil.rmtree(p, ignore_errors=True)


def _inside(a: Path, b: Path) -> bool:
    """True when `a` is `b` or lies inside it (resolved, case-insensitive on Windows)."""
    try:
        a, b = a.resolve(), b.resolve()
    except OSError:
        return False
    if os.name == "nt":
        return str(a).lower() == str(b).lower() or str(a).lower().startswith(str(b).lower().rstrip("\\") + "\\")
    return a == b or b in a.parents


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def writable(folder: Path) -> str | None:
    """None when a file can be created in `folder`; else the reason."""
    try:
        fd, name = tempfile.mkstemp(prefix=".quantdesk-write-test-", dir=folder)
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    os.unlink(name)
    return None


@dataclass
class OutputCheck:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_output(out: str | Path, inputs: Sequence[str | Path], *, overwrite: bool = False, force: bool = False,
                 kind: str = FOLDER) -> OutputCheck:
    """Everything about `out` that can be known before a job starts; each error says what to change."""
    r = OutputCheck()
    out = Path(out)
    if not out.is_absolute():
        r.errors.append(msg("output path {path} is relative: give a full path", path=out))
        return r
    for src in (Path(p) for p in inputs if p):
        if _inside(out, src):
            r.errors.append(msg("the output {out} is or lies inside the input {src}: pick a folder outside it", out=out,
                                src=src))
        elif src.exists() and _inside(src, out):
            r.errors.append(msg("the output {out} contains the input {src}: replacing it would delete the input; "
                                "pick another output folder", out=out, src=src))
    if r.errors:
        return r
    work = partial_path(out)
    if any(_inside(work, Path(src)) or _inside(Path(src), work) for src in inputs if src):
        r.errors.append(msg("the job's work folder {work} would be an input or hold one: pick another output name",
                            work=work))
    elif (work.exists() or work.is_symlink()) and not is_our_partial(work):
        r.errors.append(msg("{work} exists and was not made by QuantDesk; the job builds its output there: move or "
                            "rename it, or pick another output name", work=work))
    if r.errors:
        return r
    existing = _nearest_existing(out.parent)
    if existing.exists() and not existing.is_dir():
        r.errors.append(msg("{existing} is a file, so {out} cannot be created under it: pick another output path",
                            existing=existing, out=out))
        return r
    if out.exists():
        if kind == FOLDER and not out.is_dir():
            r.errors.append(msg("{out} is a file, not a folder: pick a folder path for the output", out=out))
            return r
        if kind == FILE and out.is_dir():
            r.errors.append(msg("{out} is a folder: give a file path for the output", out=out))
            return r
        if kind == FOLDER and out.is_dir() and any(out.iterdir()):
            if not overwrite:
                r.errors.append(msg("output folder {out} exists and is not empty: pick another or use --overwrite", out=out))
            elif not (out / MARKER).is_file() and not force:
                r.errors.append(msg("{out} is not an earlier QuantDesk output (it has no {marker}), so --overwrite will "
                                    "not replace it: pick another folder, or add --force to replace it anyway",
                                    out=out, marker=MARKER))
            else:
                r.warnings.append(msg("{out} exists and will be replaced when the job succeeds", out=out))
        elif kind == FILE and not overwrite:
            r.errors.append(msg("output file {out} exists: pick another name or use --overwrite", out=out))
    if (reason := writable(existing)) is not None:
        r.errors.append(msg("cannot write in {folder} ({reason}): pick a folder you can write to", folder=existing,
                            reason=reason))
    return r


def discard(path: str | Path) -> None:
    """Remove a partial output (folder or file); missing is fine."""
    p = Path(path)
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def commit(partial: str | Path, out: str | Path) -> Path:
    """Move the finished `partial` to `out`; an existing `out` is swapped out first and removed last."""
    partial, out = Path(partial), Path(out)
    old = None
    if out.exists() or out.is_symlink():
        old = out.with_name(f"{out.name}.old-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}")
        out.rename(old)
    try:
        partial.rename(out)
    except OSError:
        if old is not None:
            old.rename(out)  # put the previous output back
        raise
    if out.is_dir():
        (out / PARTIAL_MARKER).unlink(missing_ok=True)
    if old is not None:
        discard(old)
    return out
