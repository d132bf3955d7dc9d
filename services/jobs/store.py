"""JobStore: jobs and every event they emitted, in SQLite (WAL) in the user data dir.

Safe to use from several threads (one connection, one lock) and from several processes (SQLite's
own locking; the GUI and a `quantdesk quantize` in a terminal share the same store).
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from services.jobs.spec import JobSpec

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
FINAL = ("succeeded", "failed", "cancelled", "interrupted")

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, model TEXT NOT NULL, out TEXT, spec TEXT NOT NULL,
    status TEXT NOT NULL, created REAL NOT NULL, started REAL, finished REAL, pid INTEGER,
    done INTEGER DEFAULT 0, total INTEGER DEFAULT 0, unit TEXT DEFAULT '', message TEXT DEFAULT '',
    eta_s REAL, result TEXT, error TEXT, log_path TEXT
);
CREATE TABLE IF NOT EXISTS events (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE, seq INTEGER NOT NULL, t REAL NOT NULL,
    type TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (job_id, seq)
);
"""


@dataclass
class JobRecord:
    id: str
    kind: str
    model: str
    out: str | None
    spec: JobSpec
    status: str
    created: float
    started: float | None
    finished: float | None
    pid: int | None
    done: int
    total: int
    unit: str
    message: str
    eta_s: float | None
    result: dict | None
    error: str | None
    log_path: str | None

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "spec"}
        d["spec"] = json.loads(self.spec.to_json())
        return d


class JobStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=10, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _exec(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, args)

    # -- jobs
    def add(self, spec: JobSpec, log_path: Path | None = None) -> JobRecord:
        self._exec("INSERT INTO jobs (id, kind, model, out, spec, status, created, log_path) VALUES (?,?,?,?,?,?,?,?)",
                   (spec.id, spec.kind, spec.model, spec.out, spec.to_json(), "queued", spec.created,
                    str(log_path) if log_path else None))
        return self.get(spec.id)

    def get(self, job_id: str) -> JobRecord:
        row = self._exec("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            matches = self._exec("SELECT * FROM jobs WHERE id LIKE ?", (f"%{job_id}%",)).fetchall()
            if len(matches) != 1:
                raise KeyError(f"no job {job_id!r}" if not matches else f"{job_id!r} matches {len(matches)} jobs")
            row = matches[0]
        return self._record(row)

    def list(self, limit: int = 200) -> list[JobRecord]:
        rows = self._exec("SELECT * FROM jobs ORDER BY created DESC LIMIT ?", (limit,)).fetchall()
        return [self._record(r) for r in rows]

    def _record(self, row: tuple) -> JobRecord:
        cols = [d[0] for d in self._exec("SELECT * FROM jobs LIMIT 0").description]
        d = dict(zip(cols, row, strict=True))
        d["spec"] = JobSpec.from_json(d["spec"])
        d["result"] = json.loads(d["result"]) if d["result"] else None
        return JobRecord(**d)

    def set_status(self, job_id: str, status: str, *, error: str | None = None, result: dict | None = None,
                   pid: int | None = None, only_if_not_final: bool = False) -> bool:
        """Change a job's status; with `only_if_not_final`, a final status (e.g. cancelled) is kept."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        now = time.time()
        sets, args = ["status = ?"], [status]
        if status == "running":
            sets.append("started = ?")
            args.append(now)
        if status in FINAL:
            sets.append("finished = ?")
            args.append(now)
        if error is not None:
            sets.append("error = ?")
            args.append(error)
        if result is not None:
            sets.append("result = ?")
            args.append(json.dumps(result, ensure_ascii=False))
        if pid is not None:
            sets.append("pid = ?")
            args.append(pid)
        where = "id = ?" + (f" AND status NOT IN ({','.join('?' * len(FINAL))})" if only_if_not_final else "")
        args.append(job_id)
        if only_if_not_final:
            args += list(FINAL)
        cur = self._exec(f"UPDATE jobs SET {', '.join(sets)} WHERE {where}", tuple(args))
        return cur.rowcount == 1

    def set_progress(self, job_id: str, done: int, total: int, unit: str, message: str, eta_s: float | None) -> None:
        self._exec("UPDATE jobs SET done=?, total=?, unit=?, message=?, eta_s=? WHERE id=?",
                   (done, total, unit, message, eta_s, job_id))

    def delete(self, job_id: str) -> None:
        rec = self.get(job_id)
        if not rec.final:
            raise ValueError(f"job {rec.id} is {rec.status}: cancel it before deleting its record")
        self._exec("DELETE FROM events WHERE job_id = ?", (rec.id,))
        self._exec("DELETE FROM jobs WHERE id = ?", (rec.id,))

    # -- events
    def add_event(self, job_id: str, event: dict) -> int:
        with self._lock:
            seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE job_id = ?", (job_id,)).fetchone()[0]
            self._db.execute("INSERT INTO events VALUES (?,?,?,?,?)",
                             (job_id, seq, time.time(), str(event.get("type", "")), json.dumps(event, ensure_ascii=False)))
        return seq

    def events(self, job_id: str, after: int = 0) -> list[dict]:
        rows = self._exec("SELECT seq, t, payload FROM events WHERE job_id = ? AND seq > ? ORDER BY seq",
                          (job_id, after)).fetchall()
        return [{"seq": s, "t": t, **json.loads(p)} for s, t, p in rows]

    # -- crash recovery
    def mark_interrupted(self, is_alive, include_queued: bool = False) -> list[str]:
        """Running jobs whose runner is gone (and, at GUI start, queued ones) become "interrupted"."""
        states = "('queued', 'running')" if include_queued else "('running')"
        rows = self._exec(f"SELECT id, pid, status FROM jobs WHERE status IN {states}").fetchall()
        gone = [job_id for job_id, pid, status in rows if not (status == "running" and pid and is_alive(pid))]
        for job_id in gone:
            self.set_status(job_id, "interrupted", error="QuantDesk stopped while this job was running")
        return gone
