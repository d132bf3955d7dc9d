"""JobStore: jobs and every event they emitted, in SQLite (WAL) in the user data dir.

Safe to use from several threads (one connection, one lock) and from several processes (SQLite's
own locking; the GUI and a `quantdesk quantize` in a terminal share the same store). The schema
version is `PRAGMA user_version`; migrations only add, so an older QuantDesk can still read a
newer store (it reads the columns it knows; job kinds it does not know are listed, not run).
A damaged file is moved aside (`jobs.db.corrupt-<time>`) and a fresh store started, with a notice.
"""
from __future__ import annotations

import builtins
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

from services.jobs.spec import JobSpec
from services.messages import msg

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
FINAL = ("succeeded", "failed", "cancelled", "interrupted")

MIGRATIONS = [
    # 1: the first schema
    """
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
    """,
    # 2: who owns a queued job, cross-process cancel, how it ended, where it ran
    """
    ALTER TABLE jobs ADD COLUMN owner TEXT;
    ALTER TABLE jobs ADD COLUMN pid_started REAL;
    ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN exit_code INTEGER;
    ALTER TABLE jobs ADD COLUMN error_kind TEXT;
    ALTER TABLE jobs ADD COLUMN executor TEXT DEFAULT 'local';
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """The job store cannot be used; the message names the file and what to do."""


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
    owner: str | None = None
    pid_started: float | None = None
    cancel_requested: int = 0
    exit_code: int | None = None
    error_kind: str | None = None
    executor: str | None = "local"

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def known_kind(self) -> bool:
        from services.jobs.kinds import KINDS

        return self.kind in KINDS

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "spec"}
        d["spec"] = json.loads(self.spec.to_json())
        return d


COLUMNS = [f.name for f in fields(JobRecord)]
DAMAGED = ("not a database", "malformed", "file is encrypted")


def _damaged(exc: sqlite3.DatabaseError) -> bool:
    return any(d in str(exc) for d in DAMAGED) or type(exc) is sqlite3.DatabaseError


def _unusable(path: Path, exc: Exception) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return msg("the job store {path} is locked by another process; close other QuantDesk windows or wait for "
                   "their jobs to start, then try again", path=path)
    if "full" in text:
        return msg("the disk holding {path} is full: free some space, then try again", path=path)
    if "readonly" in text or "read-only" in text:
        return msg("the job store {path} is on a read-only disk: set QUANTDESK_HOME to a folder you can write",
                   path=path)
    return msg("the job store {path} cannot be used ({reason}): check the disk, then try again", path=path,
               reason=text)


def _connect(path: Path, timeout: float = 10.0) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), check_same_thread=False, timeout=timeout, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    return db


class JobStore:
    def __init__(self, path: Path, recover: bool = True, timeout: float = 10.0):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.notice: str | None = None  # set when a damaged store was moved aside
        self._lock = threading.RLock()
        try:
            self._db = _connect(path, timeout)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            if not (_damaged(exc) or path.is_dir()):  # locked, full, read-only, I/O: the file may be fine
                raise StoreError(_unusable(path, exc)) from exc
            if not recover:
                raise StoreError(msg("the job store {path} is damaged ({reason}); move it aside and QuantDesk starts "
                                     "a fresh one (job folders and outputs are not affected)", path=path,
                                     reason=exc)) from exc
            moved = self._move_aside(exc)
            self._db = _connect(path, timeout)
            self._migrate()
            self.notice = msg("the job store {path} was damaged ({reason}) and was moved to {moved}; a fresh "
                              "store was started (job folders, logs and outputs are untouched)", path=path,
                              reason=exc, moved=moved.name)
        self._columns = {r[1] for r in self._db.execute("PRAGMA table_info(jobs)")}

    def _move_aside(self, exc: Exception) -> Path:
        try:
            self._db.close()
        except (AttributeError, sqlite3.Error):
            pass
        stamp = time.strftime("%Y%m%d-%H%M%S")
        moved = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 2
        while moved.exists():  # never overwrite an earlier backup
            moved = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
            n += 1
        try:
            self.path.rename(moved)
        except OSError as err:
            raise StoreError(msg("the job store {path} is damaged ({reason}) and cannot be moved aside ({error}); "
                                 "move it away by hand", path=self.path, reason=exc, error=err)) from err
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                side.rename(moved.with_name(moved.name + suffix))
        return moved

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0 and self._db.execute("SELECT name FROM sqlite_master WHERE name='jobs'").fetchone():
            version = 1  # made before the store had a version
        for i in range(version, SCHEMA_VERSION):
            with self._transaction():
                for stmt in filter(str.strip, MIGRATIONS[i].split(";")):
                    self._db.execute(stmt)
                self._db.execute(f"PRAGMA user_version = {i + 1}")

    @property
    def version(self) -> int:
        return int(self._exec("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(_unusable(self.path, exc)) from exc
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _exec(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._db.execute(sql, args)
            except sqlite3.OperationalError as exc:
                raise StoreError(_unusable(self.path, exc)) from exc

    # -- jobs
    def add(self, spec: JobSpec, log_path: Path | None = None, owner: str | None = None) -> JobRecord:
        self._exec("INSERT INTO jobs (id, kind, model, out, spec, status, created, log_path, owner, executor) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?)",
                   (spec.id, spec.kind, spec.model, spec.out, spec.to_json(), "queued", spec.created,
                    str(log_path) if log_path else None, owner, spec.executor))
        return self.get(spec.id)

    def _select(self, where: str, args: tuple) -> list[sqlite3.Row | tuple]:
        cols = [c for c in COLUMNS if c in self._columns]
        return self._exec(f"SELECT {', '.join(cols)} FROM jobs {where}", args).fetchall()

    def get(self, job_id: str) -> JobRecord:
        """A job by its id or a unique part of it."""
        job_id = job_id.strip()
        if not job_id:
            raise KeyError(msg("give a job id (or a unique part of it)"))
        rows = self._select("WHERE id = ?", (job_id,))
        if not rows:
            rows = self._select("WHERE instr(id, ?) > 0", (job_id,))  # no LIKE: % and _ are not wildcards
            if len(rows) != 1:
                raise KeyError(msg("no job {job!r}", job=job_id) if not rows else
                               msg("{job!r} matches {count} jobs", job=job_id, count=len(rows)))
        return self._record(rows[0])

    def data_version(self) -> int:
        """Changes whenever another connection (a CLI, another window, a runner) committed to the store: a
        cheap "anything new?" before reading the list again."""
        return int(self._exec("PRAGMA data_version").fetchone()[0])

    def list(self, limit: int = 200) -> builtins.list[JobRecord]:
        return [self._record(r) for r in self._select("ORDER BY created DESC LIMIT ?", (limit,))]

    def _record(self, row) -> JobRecord:
        d = dict(zip([c for c in COLUMNS if c in self._columns], row, strict=True))
        try:
            d["spec"] = JobSpec.from_json(d["spec"], known_kinds_only=False)
        except (ValueError, TypeError):
            d["spec"] = JobSpec(kind=d["kind"], model=d["model"], out=d["out"], id=d["id"])
        try:
            d["result"] = json.loads(d["result"]) if d["result"] else None
        except ValueError:
            d["result"] = None
        return JobRecord(**d)

    def set_status(self, job_id: str, status: str, *, error: str | None = None, result: dict | None = None,
                   pid: int | None = None, pid_started: float | None = None, exit_code: int | None = None,
                   error_kind: str | None = None, only_if_not_final: bool = False) -> bool:
        """Change a job's status; with `only_if_not_final`, a final status (e.g. cancelled) is kept."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        now = time.time()
        values: dict[str, object] = {"status": status}
        if status == "running":
            values["started"] = now
        if status in FINAL:
            values["finished"] = now
        for name, value in (("error", error), ("pid", pid), ("pid_started", pid_started),
                            ("exit_code", exit_code), ("error_kind", error_kind)):
            if value is not None:
                values[name] = value
        if result is not None:
            values["result"] = json.dumps(result, ensure_ascii=False)
        where = "id = ?" + (f" AND status NOT IN ({','.join('?' * len(FINAL))})" if only_if_not_final else "")
        args = [*values.values(), job_id, *(FINAL if only_if_not_final else ())]
        cur = self._exec(f"UPDATE jobs SET {', '.join(f'{k} = ?' for k in values)} WHERE {where}", tuple(args))
        return cur.rowcount == 1

    def set_progress(self, job_id: str, done: int, total: int, unit: str, message: str, eta_s: float | None) -> None:
        self._exec("UPDATE jobs SET done=?, total=?, unit=?, message=?, eta_s=? WHERE id=?",
                   (done, total, unit, message, eta_s, job_id))

    def mark_recovered(self, job_id: str, note: str) -> None:
        """An interrupted job whose output turned out complete: succeeded, with `note` as its message."""
        self._exec("UPDATE jobs SET status='succeeded', error=NULL, message=? WHERE id=?", (note, job_id))

    def claim(self, job_id: str, owner: str, previous: str | None) -> bool:
        """Become the owner of a running job whose owner was `previous` (gone); False when another process
        claimed it first."""
        return self._exec("UPDATE jobs SET owner=? WHERE id=? AND status='running' AND owner IS ?",
                          (owner, job_id, previous)).rowcount == 1

    def release(self, job_id: str, owner: str, note: str) -> None:
        """Give up a running job (contact with its cluster was lost): the next manager may claim it."""
        self._exec("UPDATE jobs SET owner=NULL, message=? WHERE id=? AND owner=?", (note, job_id, owner))

    def request_cancel(self, job_id: str) -> None:
        self._exec("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))

    def cancel_queued(self, job_id: str) -> bool:
        """A queued job becomes cancelled (whichever process queued it); False when it is not queued."""
        return self._exec("UPDATE jobs SET status='cancelled', finished=?, cancel_requested=1 "
                          "WHERE id=? AND status='queued'", (time.time(), job_id)).rowcount == 1

    def delete(self, job_id: str) -> None:
        """Delete a finished or queued job's record (a queued one is cancelled first)."""
        rec = self.get(job_id)
        self.cancel_queued(rec.id)
        with self._transaction() as db:
            status = db.execute("SELECT status FROM jobs WHERE id = ?", (rec.id,)).fetchone()[0]
            if status not in FINAL:
                raise ValueError(msg("job {job} is {status}: cancel it before deleting its record", job=rec.id,
                                     status=status))
            db.execute("DELETE FROM events WHERE job_id = ?", (rec.id,))
            db.execute("DELETE FROM jobs WHERE id = ?", (rec.id,))

    # -- events
    def add_event(self, job_id: str, event: dict) -> int:
        with self._transaction() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE job_id = ?", (job_id,)).fetchone()[0]
            db.execute("INSERT INTO events VALUES (?,?,?,?,?)",
                       (job_id, seq, time.time(), str(event.get("type", "")), json.dumps(event, ensure_ascii=False)))
        return seq

    def events(self, job_id: str, after: int = 0) -> builtins.list[dict]:
        rows = self._exec("SELECT seq, t, payload FROM events WHERE job_id = ? AND seq > ? ORDER BY seq",
                          (job_id, after)).fetchall()
        out = []
        for s, t, payload in rows:
            try:
                data = json.loads(payload)
            except ValueError:
                data = {"type": "log", "level": "WARNING", "message": payload}
            out.append({"seq": s, "t": t, **(data if isinstance(data, dict) else {"type": "log", "message": payload})})
        return out

    # -- crash recovery
    def mark_interrupted(self, runner_alive: Callable[[JobRecord], bool],
                         owner_alive: Callable[[str], bool]) -> builtins.list[JobRecord]:
        """Running jobs whose runner is gone, and queued jobs whose owning process is gone, become
        "interrupted"; the records are returned (their partial outputs are the caller's to remove)."""
        gone = []
        for rec in [self._record(r) for r in self._select("WHERE status IN ('queued', 'running')", ())]:
            if rec.status == "running" and runner_alive(rec):
                continue
            if rec.status == "queued" and rec.owner and owner_alive(rec.owner):
                continue
            error = msg("QuantDesk stopped while this job was running") if rec.status == "running" else \
                msg("QuantDesk stopped while this job was queued")
            if self.set_status(rec.id, "interrupted", error=error, only_if_not_final=True):
                gone.append(rec)
        return gone
