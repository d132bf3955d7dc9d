"""RayExecutor: the job runner on a Ray cluster through its Jobs API, behind the same Executor calls as
the local one. The job's working_dir carries only QuantDesk's `services` sources and the job spec
(Ray caps uploads at 512 MiB); weights are read from the cluster's storage.

Each remote job has a follower: a child process (services/clusters/raybridge.py) that prints the job's
log; its event lines are the job's events, the rest goes to the job's log file here. A stop request is
Ray's stop_job: the runner takes its SIGTERM as a cancel and stops at its next step.
"""
from __future__ import annotations

import json
import shlex
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from services.clusters.config import Cluster
from services.clusters.raybridge import EVENT_START
from services.jobs import protocol as p
from services.jobs.spec import JobSpec
from services.messages import msg
from services.runtime import process
from services.runtime.executor import JobHandle
from services.runtime.runtime import Runtime, job_runtime, source_root

BRIDGE = "services.clusters.raybridge"
UPLOAD_CAP = 512 * 1024**2
CODE_SUFFIXES = (".py", ".json", ".txt")
SPEC_NAME = "job.json"


class ClusterUnavailable(RuntimeError):
    """The cluster refused or did not answer; the message carries its words."""


def stage(job_id: str, spec: JobSpec, root: Path) -> Path:
    """A fresh working_dir for the job: the `services` sources and the spec, nothing else."""
    folder = root / f"{job_id}.ray"
    if folder.exists():
        shutil.rmtree(folder)
    src = source_root() / "services"
    size = 0
    for f in src.rglob("*"):
        if f.is_file() and f.suffix in CODE_SUFFIXES and "__pycache__" not in f.parts:
            target = folder / "services" / f.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
            size += f.stat().st_size
    (folder / SPEC_NAME).write_text(spec.to_json(), encoding="utf-8")
    if size > UPLOAD_CAP:
        raise ValueError(msg("the job's code is {mib:.0f} MiB, over Ray's 512 MiB upload cap", mib=size / 2**20))
    return folder


class RayExecutor:
    name = "ray"

    def __init__(self, cluster: Cluster, runtime: Runtime | None = None, stage_root: Path | None = None,
                 env: Callable[[], dict[str, str]] | None = None, timeout_s: float = 60.0, stop_wait_s: int = 20):
        self.cluster = cluster
        self.runtime = runtime or job_runtime()
        self.stage_root = stage_root
        self._env = env
        self._timeout = timeout_s
        self._stop_wait = stop_wait_s

    @property
    def label(self) -> str:
        return f"ray:{self.cluster.name}"

    # -- the bridge
    def _environment(self) -> dict[str, str]:
        return self.runtime.environment(self._env() if self._env else None)

    def _request(self, **kw) -> str:
        return json.dumps({"address": self.cluster.address, "headers": self.cluster.headers, **kw})

    def call(self, op: str, **kw) -> dict:
        """One Jobs API call through the bridge; ClusterUnavailable carries the cluster's answer."""
        cmd = self.runtime.module_command(BRIDGE, op)
        try:
            done = process.run(cmd, env=self._environment(), input=self._request(**kw) + "\n",
                               timeout=self._timeout)
        except process.TimeoutExpired as exc:
            raise ClusterUnavailable(msg("cluster {cluster} ({address}) did not answer within {timeout:.0f} s: check "
                                         "the address and that the cluster is up", cluster=self.cluster.name,
                                         address=self.cluster.address, timeout=self._timeout)) from exc
        try:
            answer = json.loads((done.stdout or "").strip().splitlines()[-1])
        except (ValueError, IndexError):
            answer = {"error": (done.stderr or done.stdout or "no answer").strip()[-800:]}
        if done.returncode != 0 or "error" in answer:
            raise ClusterUnavailable(msg("cluster {cluster} ({address}): {error}", cluster=self.cluster.name,
                                         address=self.cluster.address, error=answer.get("error")))
        return answer

    def _follower(self, job_id: str, skip: int) -> process.Popen:
        cmd = self.runtime.module_command(BRIDGE, "follow")
        proc = process.start(cmd, env=self._environment(), stdin=process.PIPE, stdout=process.PIPE,
                             stderr=process.DEVNULL, own_group=True)
        assert proc.stdin is not None  # kept open: the follower ends when it reads end of file (we are gone)
        proc.stdin.write((self._request(job_id=job_id, skip=skip) + "\n").encode("utf-8"))
        proc.stdin.flush()
        return proc

    # -- Executor
    def entrypoint(self) -> str:
        return f"{shlex.quote(self.cluster.python)} -m services.jobs.runner {SPEC_NAME} - --stop-on-term"

    def runtime_env(self, folder: Path, grace_s: float) -> dict:
        env = {**self.cluster.env, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8",
               # Ray's wait between the stop signal and SIGKILL: the runner's time to stop at its next step
               "RAY_JOB_STOP_WAIT_TIME_S": str(int(max(self._stop_wait, grace_s)))}
        out: dict = {"working_dir": str(folder), "env_vars": env, "excludes": ["__pycache__", "*.pyc"]}
        if self.cluster.pip:
            out["pip"] = list(self.cluster.pip)
        return out

    def start(self, job_id: str, spec_path: Path, log_path: Path) -> JobHandle:
        from services.jobs.kinds import stop_grace

        spec = JobSpec.from_json(spec_path.read_text(encoding="utf-8"), known_kinds_only=False)
        folder = stage(job_id, spec, self.stage_root or spec_path.parent)
        try:
            gpus = float(spec.params.get("num_gpus") or 0)
            self.call("submit", job_id=job_id, entrypoint=self.entrypoint(),
                      runtime_env=self.runtime_env(folder, stop_grace(spec.kind)), entrypoint_num_gpus=gpus or None,
                      metadata={"quantdesk_kind": spec.kind, "quantdesk_model": spec.model[-200:]})
        finally:
            shutil.rmtree(folder, ignore_errors=True)  # Ray has its own copy once submitted
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(f"submitted to cluster {self.cluster.name} ({self.cluster.address}) as {job_id}\n")
        return self.attach(job_id, log_path)

    def attach(self, job_id: str, log_path: Path | None = None, skip: int = 0) -> JobHandle:
        """Follow a job already on the cluster; the first `skip` events are not given again."""
        proc = self._follower(job_id, skip)
        return JobHandle(job_id, proc.pid, None, proc, log_path)

    def events(self, handle: JobHandle) -> Iterator[p.Event]:
        assert handle.proc is not None and handle.proc.stdout is not None
        log = open(handle.log_path, "a", encoding="utf-8") if handle.log_path else None
        try:
            for raw in handle.proc.stdout:
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                if line.startswith(EVENT_START):
                    yield p.parse_line(line)
                elif log is not None and line.strip():
                    log.write(line + "\n")
                    log.flush()
        finally:
            if log is not None:
                log.close()

    def wait(self, handle: JobHandle) -> int:
        assert handle.proc is not None
        code = handle.proc.wait()
        process.close_stdin(handle.proc)
        return code

    def cancel(self, handle: JobHandle, grace_s: float | None = None) -> None:
        self.stop(handle.job_id)
        if handle.proc is not None:
            try:
                handle.proc.wait(max(self._stop_wait, grace_s or 0) + 10)
            except process.TimeoutExpired:
                process.kill_tree(handle.proc.pid)

    def stop(self, job_id: str) -> None:
        self.call("stop", job_id=job_id)

    def alive(self, handle: JobHandle) -> bool:
        return handle.proc is not None and handle.proc.poll() is None

    def status(self, job_id: str) -> dict:
        return self.call("status", job_id=job_id)


def executor_for(label: str, stage_root: Path | None = None,
                 env: Callable[[], dict[str, str]] | None = None) -> RayExecutor:
    """The executor of a job label `ray:<cluster>` from the saved clusters (ValueError when unknown)."""
    from services.clusters.config import load_clusters

    kind, _, name = label.partition(":")
    if kind != "ray" or not name:
        raise ValueError(msg("unknown executor {label!r}: use local or ray:<cluster>", label=label))
    return RayExecutor(load_clusters().get(name), stage_root=stage_root, env=env)
