"""Docker as the Edge10 target needs it: prerequisite checks with their fixes, and running one
container as a job step (its output streamed to the job log, stopped when the job is cancelled)."""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

from services.envcheck.model import CheckResult, Fix
from services.jobs.events import Emitter, JobCancelled
from services.messages import msg
from services.runtime import process

DAEMON_JSON = Path("/etc/docker/daemon.json")


def docker_bin() -> str | None:
    return shutil.which("docker")


def docker_info(docker: str) -> tuple[dict | None, str]:
    """(docker info as a dict, or None when the daemon cannot be reached; the error text)."""
    try:
        proc = process.run([docker, "info", "--format", "{{json .}}"], timeout=20)
    except (OSError, process.TimeoutExpired) as exc:
        return None, str(exc)
    if proc.returncode != 0:
        return None, (proc.stderr or proc.stdout).strip()
    try:
        return json.loads(proc.stdout), ""
    except ValueError:
        return None, proc.stdout.strip()[:300]


def image_present(docker: str, ref: str) -> bool:
    try:
        return process.run([docker, "image", "inspect", ref], timeout=20).returncode == 0
    except (OSError, process.TimeoutExpired):
        return False


def registry_insecure(info: dict, registry: str, daemon_json: Path = DAEMON_JSON) -> bool:
    """Is `registry` among the daemon's insecure registries (docker info, else daemon.json)?"""
    cfg = info.get("RegistryConfig") or {}
    index = (cfg.get("IndexConfigs") or {}).get(registry) or {}
    if index and index.get("Secure") is False:
        return True
    try:
        listed = json.loads(daemon_json.read_text(encoding="utf-8")).get("insecure-registries") or []
    except (OSError, ValueError, AttributeError):
        listed = []
    return registry in listed


def daemon_json_with(registry: str, daemon_json: Path = DAEMON_JSON) -> str:
    """The daemon.json to write: what is there now plus `registry` under insecure-registries."""
    try:
        current = json.loads(daemon_json.read_text(encoding="utf-8"))
        if not isinstance(current, dict):
            current = {}
    except (OSError, ValueError):
        current = {}
    listed = [r for r in current.get("insecure-registries") or [] if r != registry]
    current["insecure-registries"] = [*listed, registry]
    return json.dumps(current, indent=2)


def docker_checks(images: list[str], registry: str | None, daemon_json: Path = DAEMON_JSON) -> list[CheckResult]:
    """Docker installed, its daemon reachable, the NVIDIA runtime, the registry allowed, the images present."""
    out: list[CheckResult] = []
    docker = docker_bin()
    if docker is None:
        return [CheckResult("docker", "Docker", "fail", msg("docker is not installed (not on PATH)"), fix=Fix(
            "command", msg("install Docker Engine (Linux) or Docker Desktop (Windows)"),
            command="curl -fsSL https://get.docker.com | sh"))]
    info, err = docker_info(docker)
    if info is None:
        return [CheckResult("docker", "Docker", "fail", msg("the Docker daemon cannot be reached"), details=err,
                            fix=Fix("command", msg("start the daemon (and add yourself to the docker group)"),
                                    command="sudo systemctl start docker && sudo usermod -aG docker $USER"))]
    out.append(CheckResult("docker", "Docker", "ok", msg("Docker {version} is running",
                                                         version=info.get("ServerVersion", "?"))))
    runtimes = info.get("Runtimes") or {}
    if "nvidia" in runtimes:
        out.append(CheckResult("nvidia-runtime", msg("NVIDIA container runtime"), "ok",
                               msg("docker has the nvidia runtime")))
    else:
        out.append(CheckResult("nvidia-runtime", msg("NVIDIA container runtime"), "fail",
                               msg("docker has no nvidia runtime, so --gpus all fails"), fix=Fix(
                                   "command", msg("install the NVIDIA Container Toolkit and register it with docker"),
                                   command="sudo apt-get install -y nvidia-container-toolkit && "
                                           "sudo nvidia-ctk runtime configure --runtime=docker && "
                                           "sudo systemctl restart docker")))
    if registry:
        if registry_insecure(info, registry, daemon_json):
            out.append(CheckResult("registry", msg("Image registry"), "ok",
                                   msg("{registry} is an allowed registry", registry=registry)))
        else:
            out.append(CheckResult(
                "registry", msg("Image registry"), "fail",
                msg("{registry} is not under insecure-registries, so pulls from it fail", registry=registry),
                details=msg("write this to {path}, then restart docker:", path=daemon_json) + "\n"
                + daemon_json_with(registry, daemon_json),
                fix=Fix("command", msg("add {registry} to insecure-registries in {path} and restart docker",
                                       registry=registry, path=daemon_json),
                        command=f"sudo tee {daemon_json} <<'EOF'\n{daemon_json_with(registry, daemon_json)}\nEOF\n"
                                "sudo systemctl restart docker")))
    for ref in images:
        if image_present(docker, ref):
            out.append(CheckResult(f"image:{ref}", msg("Image {ref}", ref=ref), "ok", msg("present")))
        else:
            out.append(CheckResult(f"image:{ref}", msg("Image {ref}", ref=ref), "fail",
                                   msg("{ref} is not on this machine", ref=ref),
                                   fix=Fix("command", msg("pull it"), command=f"docker pull {ref}")))
    return out


JOB_LABEL = "quantdesk.job"


def remove_job_containers(job_id: str) -> None:
    """Remove the containers a job started (labelled with its id): its runner may have been killed."""
    docker = docker_bin()
    if docker is None:
        return
    try:
        found = process.run([docker, "ps", "-aq", "--filter", f"label={JOB_LABEL}={job_id}"], timeout=20)
        ids = found.stdout.split() if found.returncode == 0 else []
        if ids:
            process.run([docker, "rm", "-f", *ids], timeout=60)
    except (OSError, process.TimeoutExpired):
        pass


def run_container(argv: list[str], name: str, events: Emitter, hints: dict[str, str]) -> tuple[int, str]:
    """Run `docker run --name NAME ...` (argv), its output to the job log; a cancel removes the container.

    Returns (exit code, the hint for the first known failure seen in the output, or "")."""
    docker = argv[0]
    proc = process.start(argv, stdout=process.PIPE, stderr=process.STDOUT, text=True)
    seen: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line.rstrip(), flush=True)  # the runner sends print() to the job log
            for needle, hint in hints.items():
                if needle.lower() in line.lower() and hint not in seen:
                    seen.append(hint)

    reader = threading.Thread(target=pump, name=f"docker-{name}", daemon=True)
    reader.start()
    try:
        while proc.poll() is None:
            try:
                proc.wait(timeout=0.2)
            except process.TimeoutExpired:
                pass
            events.check()
    except JobCancelled:
        events.log(msg("stopping container {name}", name=name))
        process.run([docker, "rm", "-f", name], timeout=30)
        process.kill_tree(proc.pid)
        raise
    reader.join(5)
    code = proc.returncode
    if code in (139, -11) and "segfault" in hints:
        seen.insert(0, hints["segfault"])
    return code, (seen[0] if seen else "")
