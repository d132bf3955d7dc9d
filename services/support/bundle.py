"""The support bundle: one zip with what a support engineer needs (app logs, the chosen jobs' specs,
events and logs, the doctor report, settings, versions, GPU and OS), every file redacted, a
manifest of what went in and what was redacted, and a size cap that drops the oldest job logs first."""
from __future__ import annotations

import json
import os
import platform
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from services.messages import msg
from services.paths import UserDirs, user_dirs
from services.support.redact import Redactor

DEFAULT_CAP = 50 * 1024 * 1024
MAX_LOG_BYTES = 20 * 1024 * 1024  # of one log file: its end is kept


@dataclass
class Entry:
    name: str  # path inside the zip
    text: str
    kind: str  # app-log, crash-log, job-spec, job-events, job-log, doctor, settings, environment, versions, system
    job: str | None = None
    created: float = 0.0


@dataclass
class Plan:
    entries: list[Entry] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def size(self) -> int:
        return sum(len(e.text.encode("utf-8")) for e in self.entries)


def _read(path: Path) -> str:
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - MAX_LOG_BYTES))
        data = f.read()
    text = data.decode("utf-8", errors="replace")
    return text if size <= MAX_LOG_BYTES else "[... earlier part cut ...]\n" + text


def _json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def app_logs(dirs: UserDirs) -> list[Entry]:
    out = []
    for p in sorted(dirs.logs.glob("*.log*")):
        if p.is_file():
            out.append(Entry(f"logs/{p.name}", _read(p), "crash-log" if p.name.startswith("crash") else "app-log",
                             created=p.stat().st_mtime))
    return out


def job_entries(dirs: UserDirs, jobs: list[str] | None, last: int) -> tuple[list[Entry], list[str]]:
    """The jobs asked for (ids or unique parts), or the `last` newest; (entries, notes)."""
    from services.jobs.store import JobStore, StoreError

    db = dirs.data / "jobs.db"
    if not db.exists():
        return [], [msg("no job history yet")]
    try:
        store = JobStore(db, recover=False)
    except StoreError as exc:
        return [], [msg("the job history could not be read: {error}", error=exc)]
    notes: list[str] = []
    try:
        if jobs:
            records = []
            for j in jobs:
                try:
                    records.append(store.get(j))
                except KeyError as exc:
                    raise ValueError(str(exc.args[0])) from None
        else:
            records = store.list(last)
        out = []
        for r in records:
            base = f"jobs/{r.id}"
            out.append(Entry(f"{base}/record.json", _json(r.to_dict()), "job-spec", r.id, r.created))
            out.append(Entry(f"{base}/events.json", _json(store.events(r.id)), "job-events", r.id, r.created))
            if r.log_path and Path(r.log_path).is_file():
                out.append(Entry(f"{base}/job.log", _read(Path(r.log_path)), "job-log", r.id, r.created))
        return out, notes
    finally:
        store.close()


def config_entries(dirs: UserDirs, redactor: Redactor) -> list[Entry]:
    out = []
    for name, kind in (("settings.json", "settings"), ("job_env.json", "environment"), ("msvc_env.json", "environment")):
        p = dirs.config / name
        if not p.is_file():
            continue
        text = p.read_text(encoding="utf-8", errors="replace")
        try:  # values under secret-looking keys go at any depth; the text patterns run over it all later
            text = _json(redactor.data(json.loads(text)))
        except ValueError:
            pass
        out.append(Entry(f"config/{name}", text, kind))
    clusters = dirs.config / "clusters.json"
    if clusters.is_file():  # auth headers are tokens under names the patterns do not know
        from services.clusters.config import redacted

        try:
            text = _json(redactor.data(redacted(json.loads(clusters.read_text(encoding="utf-8")))))
        except ValueError:
            text = "(clusters.json is not valid JSON)"
        out.append(Entry("config/clusters.json", text, "settings"))
    return out


def versions_text() -> str:
    """QuantDesk's version and `pip freeze` of the runtime that runs the jobs."""
    from services.runtime import process
    from services.runtime.runtime import current_runtime

    rt = current_runtime()
    try:
        proc = process.run(rt.module_command("pip", "freeze", "--all"), timeout=60, env=rt.environment(None))
        freeze = proc.stdout if proc.returncode == 0 else f"pip freeze failed: {proc.stderr.strip()[:500]}"
    except (OSError, process.TimeoutExpired) as exc:
        freeze = f"pip freeze failed: {exc}"
    return f"quantdesk {_version()}\npython {platform.python_version()} ({rt.name})\n\n{freeze}"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("quantdesk")
    except Exception:  # not installed as a package
        return "unknown"


def system_text() -> str:
    from services.telemetry.gpu import NvmlReader

    info: dict = {"os": platform.platform(), "machine": platform.machine(), "python": platform.python_version(),
                  "cpus": os.cpu_count()}
    try:
        import psutil

        info["ram_gib"] = round(psutil.virtual_memory().total / 1024**3, 1)
    except Exception:  # psutil is a dependency, but a broken one must not stop the bundle
        pass
    reader = NvmlReader()
    info["gpus"] = [{"name": g.name, "memory_gib": round(g.memory_total / 1024**3, 1),
                     "compute_capability": g.compute_capability} for g in (reader.devices() if reader.available
                                                                           else [])]
    return _json(info)


def doctor_entries() -> list[Entry]:
    from services.envcheck.runner import run_checks

    report = run_checks()
    return [Entry("doctor/report.json", _json(report.to_dict()), "doctor"),
            Entry("doctor/report.md", report.to_markdown(), "doctor")]


def plan_bundle(*, jobs: list[str] | None = None, last_jobs: int = 10, doctor: bool = True, cap: int = DEFAULT_CAP,
                dirs: UserDirs | None = None, redactor: Redactor | None = None) -> tuple[Plan, Redactor]:
    """What goes into the bundle, already redacted (a preview shows this before anything is written)."""
    dirs = dirs or user_dirs()
    redactor = redactor or Redactor()
    plan = Plan()
    entries = app_logs(dirs)
    job_list, plan.notes = job_entries(dirs, jobs, last_jobs)
    entries += job_list
    entries += config_entries(dirs, redactor)
    entries.append(Entry("system/versions.txt", versions_text(), "versions"))
    entries.append(Entry("system/system.json", system_text(), "system"))
    if doctor:
        entries += doctor_entries()
    for e in entries:
        e.text = redactor.text(e.text)
    plan.entries = entries
    # over the cap: the oldest job logs go first, then the oldest app logs
    order = sorted((e for e in entries if e.kind in ("job-log", "app-log")),
                   key=lambda e: (e.kind != "job-log", e.created))
    for e in order:
        if plan.size() <= cap:
            break
        plan.entries.remove(e)
        plan.dropped.append(e.name)
    if plan.size() > cap:
        plan.notes.append(msg("still {size} bytes after dropping logs (cap {cap})", size=plan.size(), cap=cap))
    return plan, redactor


def write_bundle(out: Path, plan: Plan, redactor: Redactor) -> Path:
    """Write the zip aside and move it into place; the manifest lists every file and the redactions."""
    out = Path(out)
    if out.suffix.lower() != ".zip":
        raise ValueError(msg("{path} must end in .zip", path=out))
    if out.exists() and out.is_dir():
        raise ValueError(msg("{path} is a folder: give a file name ending in .zip", path=out))
    partial = out.with_name(out.name + ".partial")
    for e in plan.entries:
        e.name = redactor.text(e.name)  # a file name may carry a user or machine name
    plan.notes = [redactor.text(n) for n in plan.notes]
    plan.dropped = [redactor.text(n) for n in plan.dropped]
    manifest = {"tool": "quantdesk", "version": _version(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "files": [{"name": e.name, "kind": e.kind, "job": e.job, "bytes": len(e.text.encode("utf-8"))}
                          for e in plan.entries],
                "redacted": dict(redactor.counts), "dropped_for_size": plan.dropped, "notes": plan.notes}
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
            for e in plan.entries:
                z.writestr(e.name, e.text)
            z.writestr("manifest.json", _json(manifest))
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return out
