"""Talks to a Ray cluster's Jobs API (`ray.job_submission.JobSubmissionClient`) in a child process of its
own, so the GUI never imports Ray: `python -m services.clusters.raybridge OP` reads one JSON request
(address, headers, the op's arguments) from stdin.

- `follow`: prints the job's log lines as the cluster writes them (the runner's stdout protocol is the
  log), skipping the first `skip` event lines a previous follower already gave; exits with the job's
  outcome: the runner's exit status, 3 when stopped, EXIT_LOST when the cluster cannot be reached.
- every other op prints one JSON document: submit, status, stop, resources, logs.

QUANTDESK_RAY_CLIENT=module:factory replaces Ray (tests use a named fake with it): the factory makes the
client, the module's list_nodes(address, headers) answers for the State API.
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable

from services.jobs import protocol as p

EVENT_START = '{"type": "'
EXIT_LOST = 75  # the cluster did not answer for LOST_AFTER_S: the job may still run there
LOST_AFTER_S = 60.0
CONNECT_TRIES = 3
TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")


def _replacement():
    """(module, factory name) standing in for Ray, or None."""
    factory = os.environ.get("QUANTDESK_RAY_CLIENT")
    if not factory:
        return None
    import importlib

    module, func = factory.split(":")
    return importlib.import_module(module), func


def make_client(req: dict):
    if fake := _replacement():
        return getattr(fake[0], fake[1])(req["address"], req.get("headers") or {})
    from ray.job_submission import JobSubmissionClient

    for attempt in range(CONNECT_TRIES):  # a head that just started answers a few seconds later
        try:
            return JobSubmissionClient(req["address"], headers=req.get("headers") or None)
        except ConnectionError:
            if attempt == CONNECT_TRIES - 1:
                raise
            time.sleep(2.0)


def _status(client, job_id: str) -> dict:
    info = client.get_job_info(job_id)
    status = getattr(info.status, "value", str(info.status))
    return {"status": str(status), "message": info.message or "", "exit_code": info.driver_exit_code}


def submit(client, req: dict) -> dict:
    kwargs = {k: req[k] for k in ("entrypoint_num_gpus", "entrypoint_num_cpus", "entrypoint_memory") if req.get(k)}
    job_id = client.submit_job(entrypoint=req["entrypoint"], runtime_env=req.get("runtime_env") or {},
                               submission_id=req["job_id"], metadata=req.get("metadata") or {}, **kwargs)
    return {"submission_id": job_id}


def stop(client, req: dict) -> dict:
    return {"stopped": bool(client.stop_job(req["job_id"]))}


def resources(client, req: dict) -> dict:
    """The cluster's alive nodes with their resources (Ray's State API over the dashboard address)."""
    if fake := _replacement():
        return {"nodes": fake[0].list_nodes(req["address"], req.get("headers") or {})}
    from ray.util.state.api import StateApiClient
    from ray.util.state.common import ListApiOptions, StateResource

    api = StateApiClient(address=req["address"], headers=req.get("headers") or None)  # the auth header too
    nodes: list = api.list(StateResource.NODES, options=ListApiOptions(detail=True), raise_on_missing_output=False)
    return {"nodes": [{"ip": n.node_ip, "state": n.state, "head": bool(n.is_head_node),
                       "resources": dict(n.resources_total or {})} for n in nodes]}


def gone(exc: BaseException) -> bool:
    """The cluster does not know the job (HTTP 404)."""
    text = str(exc)
    return "does not exist" in text or getattr(exc, "status", None) == 404 or "status code 404" in text


def transient(exc: BaseException) -> bool:
    """Worth retrying: the connection, a timeout, a server error (5xx); not a request the cluster refuses."""
    import asyncio
    import re

    if isinstance(exc, (ConnectionError, OSError, asyncio.TimeoutError, TimeoutError)):
        return True
    if any(w in type(exc).__name__ for w in ("Connect", "Timeout", "Disconnected")):
        return True
    status = getattr(exc, "status", None)
    if not isinstance(status, int):
        m = re.search(r"status code (\d{3})", str(exc))
        status = int(m.group(1)) if m else None
    if status is not None:
        return status >= 500
    return any(w in str(exc) for w in ("Cannot connect", "Connection", "closed unexpectedly"))


def _split(line: str) -> list[str]:
    """A log line; text a library left without a newline before an event line goes on its own line."""
    i = line.find(EVENT_START)
    if i > 0:
        return [line[:i].rstrip("\r"), line[i:]]
    return [line]


class Follower:
    """Turns log chunks into lines, dropping what an earlier follower already gave."""

    def __init__(self, write: Callable[[str], None], skip: int = 0):
        self.write, self.skip, self.events, self._buf = write, skip, 0, ""
        self.outcome: int | None = None  # the runner's exit status, from its last event (result, error, cancelled)

    def feed(self, chunk: str) -> None:
        self._buf += chunk
        *lines, self._buf = self._buf.split("\n")
        for line in lines:
            self._line(line)

    def close(self) -> None:
        if self._buf:
            self._line(self._buf)
            self._buf = ""

    def _line(self, raw: str) -> None:
        for line in _split(raw.rstrip("\r")):
            if not line.strip():
                continue
            if line.startswith(EVENT_START):
                self.events += 1
                keep = self.events > self.skip
                self._outcome(line)
            else:
                keep = self.events >= self.skip
            if keep:
                self.write(line)


    def _outcome(self, line: str) -> None:
        event = p.parse_line(line)
        if isinstance(event, p.Result):
            self.outcome = p.EXIT_OK if event.ok else p.EXIT_FAILED
        elif isinstance(event, p.Error):
            self.outcome = p.EXIT_BAD_INPUT if event.bad_input else p.EXIT_FAILED
        elif isinstance(event, p.Cancelled):
            self.outcome = p.EXIT_CANCELLED


def follow(client, job_id: str, write: Callable[[str], None], skip: int = 0, sleep=time.sleep,
           clock=time.monotonic) -> int:
    """Stream the job's log until it ends; the exit status follows the job's outcome."""
    import asyncio

    follower = Follower(write, skip)

    async def tail() -> None:
        async for chunk in client.tail_job_logs(job_id):
            follower.feed(chunk)
            if follower.outcome is not None:  # the runner said how it ended: do not wait for Ray to notice
                return

    last_ok = clock()
    while True:
        try:
            asyncio.run(tail())
            if follower.outcome is not None:
                follower.close()
                return follower.outcome
            st = _status(client, job_id)
        except Exception as exc:  # the connection dropped: the job goes on; retry until LOST_AFTER_S
            if gone(exc):
                write(p.to_line(p.Error(f"the cluster has no job {job_id}: it was deleted there, or the cluster's "
                                        "head restarted and forgot it",
                                        hint="run the job again; quantdesk cluster check shows the cluster's state")))
                return p.EXIT_FAILED
            if not transient(exc):  # a request the cluster will never accept: waiting does not help
                write(p.to_line(p.Error(f"the cluster refused to report on the job: {type(exc).__name__}: {exc}",
                                        hint="check the cluster's settings (address, auth header) with quantdesk "
                                             "cluster check; the job may still run there")))
                return p.EXIT_FAILED
            if clock() - last_ok > LOST_AFTER_S:
                write(p.to_line(p.Log(f"lost contact with the cluster: {exc}", "WARNING")))
                return EXIT_LOST
            sleep(2.0)
            follower = Follower(write, max(follower.events, skip))
            continue
        last_ok = clock()
        for _ in range(25):  # the stream ends as the job does; its status follows a moment later
            if st["status"] in TERMINAL:
                break
            sleep(0.2)
            st = _status(client, job_id)
        if st["status"] in TERMINAL:
            break
        # the stream ended long before the job did (the head restarted): read it again
        follower = Follower(write, max(follower.events, skip))
    follower.close()
    if st["status"] == "STOPPED":
        return p.EXIT_CANCELLED
    if st["status"] == "SUCCEEDED":
        return int(st["exit_code"] or 0)
    code = st["exit_code"]
    if code is None or follower.events == 0:  # the runner never ran: the runtime env or the entrypoint failed
        write(p.to_line(p.Error(f"the cluster could not run the job: {st['message'] or 'no reason given'}",
                                hint="read the job's log; check the cluster's Python (Settings > Clusters) "
                                     "with quantdesk cluster check")))
    return int(code) if code else p.EXIT_FAILED


def _exit_with_parent() -> None:
    """The follower's stdin stays open while its QuantDesk lives: end of file means it is gone."""
    import threading

    def watch() -> None:
        try:
            while os.read(sys.stdin.fileno(), 256):
                pass
        except OSError:
            pass
        os._exit(EXIT_LOST)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


OPS = {"submit": submit, "stop": stop, "status": lambda c, r: _status(c, r["job_id"]), "resources": resources,
       "logs": lambda c, r: {"logs": c.get_job_logs(r["job_id"])}}


def main(argv: list[str]) -> int:
    op = argv[0] if argv else ""
    try:
        req = json.loads(sys.stdin.readline() or "{}")
        client = make_client(req)
        if op == "follow":
            _exit_with_parent()

            def write(line: str) -> None:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()

            return follow(client, req["job_id"], write, int(req.get("skip") or 0))
        if op not in OPS:
            print(json.dumps({"error": f"unknown op {op!r}; ops: follow, {', '.join(OPS)}"}))
            return 2
        print(json.dumps(OPS[op](client, req), ensure_ascii=False, default=str))
        return 0
    except Exception as exc:  # one line the executor shows: the cluster's own words
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"[:2000]}, ensure_ascii=False))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
