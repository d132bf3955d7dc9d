"""A FAKE `docker` for the Edge10 tests: the vendor's images cannot exist here.

It answers `info`, `image inspect`, `run` and `rm -f` the way the real CLI does, and for `run` it
emulates the two vendor images: tyquantize copies the checkpoint (as checkpoint_convert.py would),
tyllm runs the generated compile_llm.py against a fake `tyllm` module that writes an artifacts tree
in the guide's layout. Nothing it writes is a real compile. Behaviour comes from FAKE_DOCKER_* variables.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV = os.environ
STATE = Path(ENV.get("FAKE_DOCKER_STATE", tempfile.gettempdir()))

FAKE_TYLLM = '''
import json, os
from pathlib import Path

def _host(path):
    for host, container in json.loads(os.environ["FAKE_MOUNTS"]):
        if path == container or path.startswith(container + "/"):
            return host + path[len(container):]
    raise SystemExit(f"fake tyllm: {path} is not mounted")

def build_and_compile_llm(model_path, artifacts_path, max_kv_cache_size, seq_len_list, dev_count,
                          embedding_as_input, LM_die_remap, VM_die_remap=None):
    assert len(LM_die_remap) == 16, "LM_die_remap needs 16 entries"
    model = Path(_host(model_path))
    assert (model / "config.json").is_file() and (model / "vocab.json").is_file(), "config.json/vocab.json missing"
    root = Path(_host(artifacts_path))
    root.mkdir(parents=True, exist_ok=True)
    record = {"max_kv": max_kv_cache_size, "seq_len_list": seq_len_list, "dies": dev_count,
              "COMPILE_THREAD": os.environ.get("COMPILE_THREAD"), "LM_die_remap": LM_die_remap}
    (root / "config.json").write_text(json.dumps(record))
    (root / "buffer_config.json").write_text("{}")
    for n in seq_len_list:
        d = root / "batch_1" / f"seqlen_{n}"
        d.mkdir(parents=True, exist_ok=True)
        for i in range(dev_count):
            (d / f"die{i}.so").write_bytes(b"FAKE")
            (d / f"die{i}.params").write_bytes(b"FAKE")
        print(f"fake tyllm: compiled seqlen {n} for {dev_count} dies", flush=True)
'''


def log(entry: dict) -> None:
    if ENV.get("FAKE_DOCKER_LOG"):
        with open(ENV["FAKE_DOCKER_LOG"], "a", encoding="utf-8") as f:
            f.write(json.dumps({**entry, "t": round(time.time(), 2), "pid": entry.get("pid", os.getpid()),
                                "ppid": os.getppid()}, ensure_ascii=False) + "\n")


def info() -> int:
    if ENV.get("FAKE_DOCKER_DAEMON") == "down":
        print("Cannot connect to the Docker daemon at unix:///var/run/docker.sock.", file=sys.stderr)
        return 1
    runtimes = {"runc": {}} if ENV.get("FAKE_DOCKER_NO_NVIDIA") else {"runc": {}, "nvidia": {}}
    registry = ENV.get("FAKE_DOCKER_INSECURE")
    index = {registry: {"Name": registry, "Secure": False}} if registry else {}
    print(json.dumps({"ServerVersion": "27.0-fake", "Runtimes": runtimes, "RegistryConfig": {"IndexConfigs": index}}))
    return 0


def run(args: list[str]) -> int:
    mounts, env, name, labels, i = [], {}, None, [], 0
    while args[i].startswith("-"):
        flag = args[i]
        if flag in ("--rm",):
            i += 1
            continue
        value = args[i + 1]
        if flag == "-v":
            host, container = value.rsplit(":ro", 1)[0].rsplit(":", 1) if value.endswith(":ro") else \
                value.rsplit(":", 1)
            mounts.append((host, container))
        elif flag == "-e":
            k, v = value.split("=", 1)
            env[k] = v
        elif flag == "--name":
            name = value
        elif flag == "--label":
            labels.append(value)
        i += 2
    image, command = args[i], args[i + 1:]
    log({"run": image, "name": name, "mounts": mounts, "env": env, "command": command, "labels": labels})
    if name:
        (STATE / f"{name}.labels").write_text("\n".join(labels))
        (STATE / f"{name}.pid").write_text(str(os.getpid()))  # last: a container with a pid file is complete
    if name:
        ENV["FAKE_DOCKER_CONTAINER_NAME"] = name
    try:
        code = _container(image, command, mounts, env)
    except BrokenPipeError:  # the job that ran us is gone: a real client dies here, its container lives on
        os._exit(1)
    if name:  # the container ended: docker run --rm removes it
        (STATE / f"{name}.pid").unlink(missing_ok=True)
        (STATE / f"{name}.labels").unlink(missing_ok=True)
    return code


def _host(path: str, mounts) -> Path:
    for host, container in mounts:
        if path == container or path.startswith(container + "/"):
            return Path(host + path[len(container):])
    raise SystemExit(f"fake docker: {path} is not mounted")


def _container(image: str, command: list[str], mounts, env) -> int:
    mode = ENV.get("FAKE_DOCKER_MODE", "")
    if mode == "slow":
        # a real container outlives a killed client: the fake's "container" is a process that is not our
        # descendant (started through a short-lived middle process), found again through its pid file
        loop = "import time\nwhile True: time.sleep(0.1)"
        middle = f"import subprocess, sys; print(subprocess.Popen([sys.executable, '-c', {loop!r}], " \
                 "start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid)"
        pid = int(subprocess.run([sys.executable, "-c", middle], capture_output=True, text=True).stdout)
        if ENV.get("FAKE_DOCKER_CONTAINER_NAME"):
            (STATE / f"{ENV['FAKE_DOCKER_CONTAINER_NAME']}.pid").write_text(str(pid))
        while True:  # attached, like docker run: until `docker rm -f` stops the container
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return 137
            print("working...", flush=True)
            time.sleep(0.1)
    if "tyquantize" in image:
        script = command[-1]
        src = re.search(r"--src (\S+)", script).group(1)
        dst = re.search(r"--dst (\S+)", script).group(1)
        if "--quant_type awq" not in script:
            print("checkpoint_convert.py: --quant_type awq expected", flush=True)
            return 2
        shutil.copytree(_host(src, mounts), _host(dst, mounts))
        print(f"fake checkpoint_convert: {src} -> {dst}", flush=True)
        side = re.search(r"cp -n (\S+)/\* (\S+)/$", script)
        if side:
            for f in _host(side.group(1), mounts).iterdir():
                target = _host(side.group(2), mounts) / f.name
                if not target.exists():
                    shutil.copy2(f, target)
        return 0
    if "tyllm" in image:
        if mode == "segfault":
            print("Segmentation fault (core dumped)", flush=True)
            return 139
        if mode == "mixed":
            print("RuntimeError: Expected all tensors to be on the same device, but found cpu and cuda:0", flush=True)
            return 1
        pkg = Path(tempfile.mkdtemp())
        (pkg / "tyllm.py").write_text(FAKE_TYLLM)
        script = _host(command[-1], mounts)
        full = {**ENV, **env, "PYTHONPATH": str(pkg), "FAKE_MOUNTS": json.dumps(mounts)}
        return subprocess.call([sys.executable, str(script)], env=full)
    print(f"Unable to find image '{image}' locally", file=sys.stderr)
    return 125


def main(argv: list[str]) -> int:
    if argv[:1] == ["info"]:
        return info()
    if argv[:2] == ["image", "inspect"]:
        present = [x for x in ENV.get("FAKE_DOCKER_IMAGES", "").split(",") if x]
        return 0 if argv[2] in present else 1
    if argv[:1] == ["run"]:
        return run(argv[1:])
    if argv[:2] == ["ps", "-aq"] and argv[2] == "--filter" and argv[3].startswith("label="):
        wanted = argv[3][len("label="):]
        log({"ps": wanted, "state": sorted(f.name for f in STATE.iterdir())})
        for f in STATE.glob("*.labels"):
            if wanted in f.read_text().splitlines() and (STATE / f"{f.stem}.pid").exists():
                print(f.stem)  # the real CLI prints ids; names work with rm as well
        return 0
    if argv[:2] == ["rm", "-f"]:
        for name in argv[2:]:
            log({"rm": name, "pid": (STATE / f"{name}.pid").read_text() if (STATE / f"{name}.pid").exists() else None})
            pid_file = STATE / f"{name}.pid"
            if pid_file.exists():
                try:
                    os.kill(int(pid_file.read_text()), signal.SIGKILL)
                except ProcessLookupError:
                    pass
                pid_file.unlink(missing_ok=True)
                (STATE / f"{name}.labels").unlink(missing_ok=True)
        return 0
    print(f"fake docker: {argv} not emulated", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
