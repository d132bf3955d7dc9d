"""The "serve" job: start the engine on 127.0.0.1, wait until it answers, run the smoke test, keep serving
until Stop (or stop at once after the smoke test), and always stop the engine's process tree.

On Stop while serving, the job ends normally with its report (it served until asked to stop).
"""
from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path

from services.evaluate.answers import load_prompts
from services.jobs.events import Emitter, JobCancelled, JobFailure
from services.jobs.spec import JobSpec
from services.messages import msg
from services.runtime import process
from services.serving import client
from services.serving.engines import get_engine
from services.serving.hints import hints_for
from services.serving.launch import ServeError, ServePlan, plan_serve
from services.serving.smoke import concurrency, summarize

READY_TIMEOUT_S = {"llamacpp": 180.0, "vllm": 900.0, "lmdeploy": 900.0}


class Engine:
    """The engine process: its output goes to the job log, the last lines are kept for hints."""

    def __init__(self, plan: ServePlan):
        self.plan = plan
        self.tail: deque[str] = deque(maxlen=80)
        env = plan.runtime.environment() if plan.runtime else None
        self.proc = process.start(plan.argv, env=env, stdout=process.PIPE, stderr=process.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\r\n")
            self.tail.append(line)
            print(f"[{self.plan.engine}] {line}", flush=True)

    def exited(self) -> int | None:
        return self.proc.poll()

    def failure(self, what: str) -> JobFailure:
        self._reader.join(2)
        last = [line for line in self.tail if line.strip()][-8:]
        hints = [h.replace("ENGINE", self.plan.engine) for h in hints_for(self.tail)]
        return JobFailure(what + (":\n  " + "\n  ".join(last) if last else ""),
                          hint="; ".join(hints) or msg("the job log has the engine's whole output"))

    def stop(self, grace_s: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(grace_s)
            except process.TimeoutExpired:
                pass
        process.kill_tree(self.proc.pid, grace_s=1.0)


def wait_ready(engine: Engine, events: Emitter, timeout_s: float, poll_s: float = 0.5,
               clock=time.monotonic) -> float:
    """Seconds until the readiness URL answered 200; JobFailure when the engine exits or the time is up."""
    started = clock()
    url = engine.plan.url + engine.plan.ready_path
    while True:
        events.check()
        code = engine.exited()
        if code is not None:
            raise engine.failure(f"{get_engine(engine.plan.engine).title} exited (exit status {code}) before it "
                                 "was ready")
        status, _ = client.get(url, timeout=2)
        if status == 200:
            served = client.model_name(engine.plan.url)
            if engine.exited() is None and served in (engine.plan.name, None):
                return clock() - started
            if engine.exited() is None or served != engine.plan.name:
                raise engine.failure(f"another server answers on port {engine.plan.port} (it serves {served!r}, "
                                     f"not {engine.plan.name!r}): leave --port out for a free one")
        if clock() - started > timeout_s:
            raise engine.failure(f"{get_engine(engine.plan.engine).title} was not ready after {timeout_s:.0f} s "
                                 f"({url} answered {status or 'nothing'})")
        time.sleep(poll_s)


def _reference(plan: ServePlan, params: dict, prompts: list[str], max_tokens: int, events: Emitter):
    from services.serving.reference import fits_in_ram, reference_answers

    asked = params.get("reference")  # None: the source, if known; False: none; a folder
    if asked is False:
        return None, None, "no comparison (--reference none)"
    folder = Path(asked) if isinstance(asked, str) else plan.source
    if folder is None:
        gone = ((plan.export or {}).get("input") or {}).get("model") if isinstance(plan.export, dict) else None
        if isinstance(gone, str) and gone and not Path(gone).exists():
            return None, None, msg("the export's source {folder} no longer exists: answers not compared", folder=gone)
        return None, None, msg("no source model is known for this input: give --reference DIR to compare answers")
    if problem := reference_problem(folder, plan):
        raise JobFailure(problem, hint=msg("give the model this export was made from (--reference DIR), or --reference "
                                           "none"), bad_input=True)
    if asked is None and not fits_in_ram(folder):
        return None, None, msg("the source {name} does not fit in half the free memory: answers not compared",
                               name=folder.name)
    events.stage("reference", msg("greedy answers of the source {name} through transformers", name=folder.name))
    texts, tokenize = reference_answers(folder, prompts, max_tokens, events.check)
    return texts, tokenize, msg("compared with {folder}", folder=folder)


def reference_problem(folder: Path, plan: ServePlan) -> str | None:
    """Why `folder` cannot be the reference for `plan`'s model: unreadable, or another vocabulary."""
    from services.serving.reference import vocabulary_problem

    if not (folder / "config.json").is_file():
        return msg("--reference {folder} is not a model folder (no config.json)", folder=folder)
    return vocabulary_problem(folder, plan.model)


def run(spec: JobSpec, events: Emitter) -> dict:
    params = dict(spec.params)
    smoke, keep = bool(params.get("smoke", True)), bool(params.get("keep_running", False))
    try:
        plan = plan_serve(spec.model, params.get("engine") or "auto", params.get("port"), params.get("context"),
                          params.get("extra_bufts") or "auto")
    except ServeError as exc:
        raise JobFailure(str(exc), bad_input=True) from None
    for n in plan.notes:
        events.log(n)
    max_tokens = int(params.get("max_tokens") or 64)
    prompts = load_prompts(params.get("prompts")) if smoke else []
    reference, tokenize, compared = (_reference(plan, params, prompts, max_tokens, events) if smoke
                                     else (None, None, ""))
    title = get_engine(plan.engine).title
    events.stage("start", msg("starting {engine} on {url}", engine=title, url=plan.url))
    events.log(" ".join(plan.argv))
    summary: dict = {"engine": plan.engine, "url": plan.url, "model": str(plan.model), "plan": plan.to_dict()}
    engine = Engine(plan)
    started = time.monotonic()
    try:
        summary["ready_s"] = round(wait_ready(engine, events, float(params.get("ready_timeout")
                                                                     or READY_TIMEOUT_S[plan.engine])), 2)
        events.metric("ready_s", summary["ready_s"])
        if plan.pool_tokens:
            events.metric("kv_pool_tokens", plan.pool_tokens)  # what the export was sized for (the Monitor's line)
        events.artifact(plan.url, "server")
        events.log(msg("{title} is ready at {url} after {seconds} s", title=title, url=plan.url,
                       seconds=summary["ready_s"]))
        name = client.model_name(plan.url) or plan.name
        summary["served_name"] = name
        if smoke:
            summary["smoke"] = _smoke(engine, plan, name, prompts, reference, tokenize, compared, params, max_tokens, events)
        if keep or not smoke:
            summary["stopped"] = _serve(engine, events)
        else:
            summary["stopped"] = msg("after the smoke test")
    finally:
        engine.stop()
    summary["served_s"] = round(time.monotonic() - started, 1)
    return summary


def _smoke(engine: Engine, plan: ServePlan, name: str, prompts: list[str], reference, tokenize, compared: str, params: dict,
           max_tokens: int, events: Emitter) -> dict:
    events.stage("smoke", msg("{count} prompts at temperature 0", count=len(prompts)))
    replies = []
    for i, prompt in enumerate(prompts):
        events.progress(i, len(prompts), msg("prompts"), msg("asking: {prompt}", prompt=prompt[:40]))
        try:
            reply = client.chat(plan.url, name, [{"role": "user", "content": prompt}], max_tokens,
                                extra=client.GREEDY.get(plan.engine), check=events.check)
        except client.ServerError as exc:
            raise engine.failure(msg("the server failed on the prompt {prompt!r}: {reason}", prompt=prompt[:40],
                                     reason=exc)) from None
        replies.append(reply)
        events.log(msg("{prompt!r} -> {reply!r} ({tokens} tokens, first after {ttft:.2f} s)", prompt=prompt[:50],
                       reply=reply.text[:80], tokens=reply.tokens, ttft=reply.ttft_s or 0))
    events.progress(len(prompts), len(prompts), msg("prompts"), msg("answers received"))
    parallel = int(params.get("parallel") or 4)
    conc = None
    if parallel > 1:
        events.stage("parallel", msg("{count} requests at once", count=parallel))
        conc = concurrency(plan.url, name, prompts, parallel, max_tokens, client.GREEDY.get(plan.engine),
                           check=events.check)
        if (code := engine.exited()) is not None:
            raise engine.failure(msg("the engine stopped during the parallel requests (exit status {code})", code=code))
    report = summarize(prompts, replies, reference, tokenize, conc)
    report["compared"] = compared
    for key in ("similarity_mean", "agreement_mean", "ttft_s_median", "tokens_per_s_median"):
        if report.get(key) is not None:
            events.metric(key, report[key])
    events.log(msg("verdict: {verdict}: {text}", verdict=report["verdict"], text=report["verdict_text"]),
               "INFO" if report["verdict"] == "pass" else "WARNING")
    return report


def _serve(engine: Engine, events: Emitter) -> str:
    """Keep serving until Stop; the engine exiting on its own is a failure."""
    events.stage("serving", msg("serving at {url} until stopped", url=engine.plan.url))
    while True:
        try:
            events.check()
        except JobCancelled:
            return "by the user"
        code = engine.exited()
        if code is not None:
            raise engine.failure(f"the engine stopped by itself (exit status {code})")
        time.sleep(0.5)
