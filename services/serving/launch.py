"""What to serve and how: the model the engine loads, the engine, its command on 127.0.0.1 and a port,
and the source model whose greedy answers the smoke test compares with (no torch, no process started).

Accepted inputs: a .gguf file; an export folder (its target.json says the engine and the settings;
a GGUF export's file is served by llama.cpp); a Hugging Face checkpoint folder (vLLM or LMDeploy).
"""
from __future__ import annotations

import json
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

from services.messages import msg
from services.runtime.runtime import Runtime, venv_runtime
from services.serving.engines import ENGINES, EngineState, get_engine, state, venv_script, wsl_script
from services.targets import scripts

HOST = "127.0.0.1"
READY_PATH = {"llamacpp": "/v1/models", "vllm": "/health", "lmdeploy": "/health"}
EXPORT_RECORD = "target.json"
LAUNCHER = "services.serving.llamacpp_server"


class ServeError(ValueError):
    """The input cannot be served as asked; the message says what to change. `missing_engine`: the
    engine it needs that is not installed (the workbench offers to install it)."""

    def __init__(self, message: str, missing_engine: str | None = None):
        super().__init__(message)
        self.missing_engine = missing_engine


@dataclass
class ServePlan:
    engine: str
    model: Path  # what the engine loads: a .gguf file or a checkpoint folder
    name: str  # the model name clients ask for
    argv: list[str]
    port: int
    context: int | None = None
    source: Path | None = None  # the model the answers are compared with (its greedy answers)
    export: dict | None = None  # the export's target.json
    pool_tokens: int | None = None  # the KV pool the export was sized for (max_seqs x context)
    notes: list[str] = field(default_factory=list)
    runtime: Runtime | None = None  # the environment our own launcher module needs (llama.cpp)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ready_path(self) -> str:
        return READY_PATH[self.engine]

    def to_dict(self) -> dict:
        return {"engine": self.engine, "model": str(self.model), "name": self.name, "argv": self.argv,
                "port": self.port, "url": self.url, "context": self.context,
                "source": str(self.source) if self.source else None, "pool_tokens": self.pool_tokens,
                "notes": self.notes}


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_taken(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def read_export(folder: Path) -> dict | None:
    path = folder / EXPORT_RECORD
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ServeError(msg("{path} is unreadable ({reason}): export again", path=path, reason=exc)) from None
    if not isinstance(record, dict) or record.get("tool") != "quantdesk":
        raise ServeError(msg("{path} is not a QuantDesk export record: export again", path=path))
    kinds = {"target": str, "input": dict, "files": list, "params": dict}
    wrong = [k for k, t in kinds.items() if k in record and record[k] is not None and not isinstance(record[k], t)]
    if wrong or not all(isinstance(f, str) for f in record.get("files") or []):
        raise ServeError(msg("{path} is damaged ({fields} has the wrong type): export again", path=path,
                             fields=", ".join(wrong) or "files"))
    return record


def gguf_problem(path: Path) -> str | None:
    """Why `path` is not a readable GGUF file (its magic and header), or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError as exc:
        return msg("{path} cannot be read: {reason}", path=path, reason=exc)
    if len(head) < 24 or head[:4] != b"GGUF":
        return msg("{path} is not a GGUF file (it does not start with GGUF): export it again with --target gguf",
                   path=path)
    try:
        from gguf import GGUFReader
    except ImportError:
        return None
    try:
        GGUFReader(str(path))
    except Exception as exc:  # a truncated or damaged file: the reader's message says where
        return msg("{path} is damaged or cut short ({reason}): export it again", path=path, reason=str(exc)[:160])
    return None


def _is_gguf_folder(folder: Path, record: dict | None) -> bool:
    return folder.is_dir() and (record or {}).get("target") in (None, "gguf") and not (folder / "config.json").exists() \
        and any(folder.glob("*.gguf"))


def _gguf_in(folder: Path, record: dict | None) -> Path:
    names = [f for f in (record or {}).get("files", []) if str(f).endswith(".gguf")]
    found = [folder / n for n in names if (folder / n).is_file()] or sorted(folder.glob("*.gguf"))
    if not found:
        raise ServeError(msg("{folder} holds no .gguf file: export it again with --target gguf", folder=folder))
    if len(found) > 1:
        raise ServeError(msg("{folder} holds {count} .gguf files: give the one to serve as --model FILE.gguf",
                             folder=folder, count=len(found)))
    return found[0]


def _source_of(record: dict | None, model: Path) -> Path | None:
    """The unquantized model behind an export or a quantized folder (for the reference answers)."""
    src = Path(str(((record or {}).get("input") or {}).get("model") or "")) if record else None
    folder = src if src and str(src) not in ("", ".") else (model if model.is_dir() else None)
    if folder is None or not folder.is_dir():
        return None
    made = folder / "quantdesk.json"  # a quantize job's output names its source
    if made.is_file():
        try:
            data = json.loads(made.read_text(encoding="utf-8"))
            origin = data.get("source") or data.get("model") or (data.get("input") or {}).get("model")
            if isinstance(origin, str) and Path(origin).is_dir() and Path(origin) != folder:
                return Path(origin)
        except (OSError, ValueError, AttributeError):
            pass
    if record and record.get("target") == "gguf":
        return folder  # a GGUF export's input is its source (GGUF from a job id takes the job's source)
    return None


def _installed(name: str, root: Path | None, platform: str | None = None) -> EngineState:
    s = state(name, root, platform)
    if not s.installed:
        raise ServeError(msg("{engine} is not ready: {reason}", engine=s.engine.title, reason=s.message),
                         missing_engine=name)
    return s


def _pick_engine(asked: str, model: Path, record: dict | None, root: Path | None) -> str:
    gguf = (model.suffix.lower() == ".gguf" and model.is_file()) or (record or {}).get("target") == "gguf" \
        or _is_gguf_folder(model, record)
    if asked != "auto":
        get_engine(asked)
        if gguf and asked != "llamacpp":
            raise ServeError(msg("{engine} does not serve GGUF files here: use --engine llamacpp",
                                 engine=get_engine(asked).title))
        if not gguf and asked == "llamacpp":
            raise ServeError(msg("llama.cpp serves GGUF files: export the model first (quantdesk export --target gguf) "
                                 "and serve the .gguf"))
        return asked
    if gguf:
        return "llamacpp"
    target = (record or {}).get("target")
    if target in ("vllm", "lmdeploy"):
        return str(target)
    for name in ("vllm", "lmdeploy"):
        if state(name, root).installed:
            return name
    raise ServeError(msg("{model} is a checkpoint folder: serve it with vLLM or LMDeploy (quantdesk engines install "
                         "vllm|lmdeploy, an NVIDIA GPU needed), or export it to GGUF and serve that with llama.cpp on CPU",
                         model=model))


def _gguf_context(path: Path) -> int | None:
    try:
        from gguf import GGUFReader
    except ImportError:
        return None
    try:
        reader = GGUFReader(str(path))
        for key, f in reader.fields.items():
            if key.endswith(".context_length"):
                return int(f.parts[f.data[0]][0])
    except Exception:  # an unreadable file is the engine's to report
        return None
    return None


def plan_serve(model: str | Path, engine: str = "auto", port: int | None = None, context: int | None = None,
               extra_bufts: str = "auto", root: Path | None = None, detect=None, windows: bool | None = None) -> ServePlan:
    """The plan for serving `model` (absolute path), or ServeError saying what to change."""
    model = Path(model)
    if not model.is_absolute():
        raise ServeError(msg("{model} is a relative path: give an absolute one", model=model))
    if not model.exists():
        raise ServeError(msg("{model} does not exist", model=model))
    record = read_export(model) if model.is_dir() else read_export(model.parent)
    name = _pick_engine(engine, model, record, root)
    windows = sys.platform == "win32" if windows is None else windows
    if port is not None and not 1 <= port <= 65535:
        raise ServeError(msg("--port {port} is not a port (1-65535)", port=port))
    if port is not None and port_taken(port):
        raise ServeError(msg("port {port} is in use on {host}: pick another --port or leave it out for a free one",
                             port=port, host=HOST))
    port = port or free_port()
    if context is not None and context < 16:
        raise ServeError(msg("--context {context} is too short: give at least 16 tokens", context=context))
    if name == "llamacpp":
        gguf = model if model.is_file() else _gguf_in(model, record)
        if gguf.suffix.lower() != ".gguf":
            raise ServeError(msg("{name} is not a .gguf file: llama.cpp serves GGUF files", name=gguf.name))
        s = _installed(name, root)
        if problem := gguf_problem(gguf):
            raise ServeError(problem)
        limit = _gguf_context(gguf)
        if context and limit and context > limit:
            raise ServeError(msg("--context {context} exceeds the model's limit of {limit} tokens: lower it",
                                 context=context, limit=limit))
        ctx = context or (min(4096, limit) if limit else 4096)
        rt = venv_runtime("llamacpp", s.env)  # our launcher module runs there, with QuantDesk's source on its path
        argv = rt.module_command(
            LAUNCHER, "--model", str(gguf), "--host", HOST, "--port", str(port), "--n-ctx", str(ctx), "--alias",
            gguf.stem, "--extra-bufts", extra_bufts)
        return ServePlan(name, gguf, gguf.stem, argv, port, ctx, _source_of(record, gguf.parent), record, ctx,
                         [msg("llama.cpp with a {context}-token context", context=ctx)], rt)
    return _plan_gpu(name, model, record, port, context, root, detect, windows)


def _plan_gpu(name: str, model: Path, record: dict | None, port: int, context: int | None, root: Path | None,
              detect, windows: bool) -> ServePlan:
    from services.targets.preflight import check_target, detected_gpu

    if model.is_file():
        raise ServeError(msg("{engine} serves a checkpoint folder, not a file: give the folder",
                             engine=ENGINES[name].title))
    folder = Path(record["input"]["model"]) if record and (record.get("input") or {}).get("model") else model
    if record and record.get("target") not in (name, None):
        raise ServeError(msg("{model} was exported for {target}, not {name}: export it for {name}, or "
                             "serve its input folder", model=model, target=record.get("target"), name=name))
    params = dict((record or {}).get("params") or {})
    params = {k: v for k, v in params.items() if k not in ("context", "port", "source_of")}
    if context:
        params["context"] = context
    params["port"] = port
    c = check_target(folder, name, params, detect=detect or detected_gpu)
    if not c.ok:
        raise ServeError("; ".join(c.errors))
    argv = list(c.info["argv"] if name == "vllm" else c.info["serve"])
    engine = ENGINES[name]
    s = _installed(name, root, "win32" if windows else "linux")
    wsl = bool(s.record.get("wsl"))
    served = scripts.wsl_path(str(folder)) if wsl else str(folder)
    argv = [served if a == scripts.MODEL else a for a in argv]
    argv += ["--host", HOST] if name == "vllm" else ["--server-name", HOST]
    assert engine.script
    if wsl:  # WSL forwards its localhost ports to Windows
        argv = ["wsl.exe", "-e", wsl_script(engine, engine.script), *argv[1:]]
    else:
        argv[0] = str(venv_script(s.env, engine.script, windows))
    ctx = c.params.get("context")
    pool = (c.params.get("max_seqs") or 1) * ctx if ctx else None
    return ServePlan(name, folder, str(c.params.get("served_name") or folder.name), argv, port, ctx,
                     _source_of(record, folder), record, pool, [*c.notes, *c.warnings])
