"""vLLM: the `vllm serve` command for a checkpoint, its flags sized by the memory planner, and
launchers (bash; on Windows a .cmd and .ps1 that run it in WSL, since vLLM has no Windows build)."""
from __future__ import annotations

from services.checkpoint import AWQ, COMPRESSED_TENSORS, FP8, GPTQ, UNQUANTIZED
from services.jobs.events import Emitter
from services.memory.planner import check_tp
from services.messages import msg
from services.targets import scripts
from services.targets.base import BuildInputs, Target, TargetInput, Verdict
from services.targets.gpus import Gpu
from services.targets.serving import resolve_context, size_engine

KV_DTYPE = {"fp16": "auto", "fp8": "fp8"}


def scheme(src: TargetInput) -> tuple[str, int]:
    """(what vLLM calls the scheme, the lowest compute capability its kernels need)."""
    f = src.fmt
    if f.kind == AWQ:
        return "AWQ W4A16", 75
    if f.kind == GPTQ:
        return "GPTQ W4A16", 75
    if f.kind == FP8 or f.version == "float-quantized":
        return "FP8", 89
    if f.kind == COMPRESSED_TENSORS and f.version == "int-quantized":
        return "W8A8 int8", 75
    if f.kind == COMPRESSED_TENSORS:
        return f"W{f.weight_bits or 4}A16 (Marlin)", 80
    return "unquantized", 70


class VllmTarget(Target):
    name = "vllm"
    title = "vLLM"
    summary = "an OpenAI-compatible server: vllm serve with flags sized for your GPU"

    def check(self, src: TargetInput, params: dict, gpu: Gpu | None) -> Verdict:
        v = Verdict()
        f = src.fmt
        if f.kind not in (AWQ, GPTQ, COMPRESSED_TENSORS, FP8, UNQUANTIZED):
            v.errors.append(msg("vLLM does not load {format} checkpoints here; export AWQ GEMM, compressed-tensors or "
                                "the unquantized model", format=f.describe()))
            return v
        if f.kind == AWQ and f.weight_bits != 4:
            v.errors.append(msg("vLLM runs 4-bit AWQ only; this checkpoint says {bits} bits: re-quantize with --bits 4",
                                bits=f.weight_bits or msg("an unreadable")))
        if f.kind == AWQ and f.version == "gemv":
            v.errors.append(msg("this AWQ checkpoint uses the GEMV layout; vLLM loads only GEMM: re-quantize with "
                                "--version gemm"))
        name, min_sm = scheme(src)
        quantization, dtype = None, None
        if f.kind == AWQ:
            quantization, dtype = ("awq_marlin" if gpu and gpu.sm and gpu.sm >= 80 else "awq"), "float16"
            v.notes.append(msg("AWQ runs in float16 in vLLM (--dtype float16)"))
        elif f.kind == GPTQ:
            quantization, dtype = ("gptq_marlin" if gpu and gpu.sm and gpu.sm >= 80 else "gptq"), "float16"
        elif f.kind in (COMPRESSED_TENSORS, FP8):
            quantization = "compressed-tensors" if f.kind == COMPRESSED_TENSORS else "fp8"
        else:
            dtype = "bfloat16" if f.dtype == "bfloat16" else "float16"
            if dtype == "bfloat16" and gpu and gpu.sm and gpu.sm < 80:
                dtype = "float16"
                v.warnings.append(msg("{gpu} has no bfloat16: serving in float16 (--dtype float16)", gpu=gpu.name))
        if gpu and gpu.sm:
            if gpu.sm < min_sm:
                v.errors.append(msg("{scheme} kernels need compute capability {need} or newer; {gpu} is {has}: quantize "
                                    "with another method (AWQ/GPTQ W4A16 run on 7.5+) or pick another GPU",
                                    scheme=name, need=f"{min_sm // 10}.{min_sm % 10}", gpu=gpu.describe(),
                                    has=f"{gpu.sm // 10}.{gpu.sm % 10}"))
        elif name != "unquantized":
            v.notes.append(msg("{scheme} needs a GPU of compute capability {need} or newer", scheme=name,
                              need=f"{min_sm // 10}.{min_sm % 10}"))
        kv = params["kv"]
        if kv not in KV_DTYPE:
            v.errors.append(msg("vLLM has no {kv} KV cache: use --kv fp8 (or fp16), or the LMDeploy target for "
                                "int8/int4 KV", kv=kv))
        elif kv == "fp8" and gpu and gpu.sm and gpu.sm < 89:
            v.warnings.append(msg("an fp8 KV cache on {gpu} is stored in fp8 but computed in fp16 (no fp8 hardware "
                                  "below compute capability 8.9)", gpu=gpu.name))
        if src.shape is not None:
            try:
                check_tp(src.shape, params["tp"], None)
            except ValueError as exc:
                v.errors.append(str(exc))
        if v.errors or src.shape is None:
            return v
        params["context"], err = resolve_context(params, src.cfg, src.shape)
        if err:
            v.errors.append(err)
            return v
        sizing = size_engine("vllm", src.shape, gpu, params["context"], params["max_seqs"],
                             kv, params["tp"], group_size=f.group_size or 128)
        v.errors += sizing.errors
        v.notes += sizing.notes
        argv = ["vllm", "serve", scripts.MODEL, "--served-model-name", params.get("served_name") or src.model.name]
        argv += ["--quantization", quantization] if quantization else []
        argv += ["--dtype", dtype] if dtype else []
        argv += ["--max-model-len", str(params["context"]), "--max-num-seqs", str(params["max_seqs"])]
        argv += ["--gpu-memory-utilization", f"{sizing.fraction:g}"] if sizing.fraction else []
        argv += ["--kv-cache-dtype", KV_DTYPE.get(kv, "auto"), "--tensor-parallel-size", str(params["tp"]),
                 "--port", str(params["port"])]
        v.info.update(argv=argv, sizing=sizing.to_dict(), scheme=name,
                      command=scripts.pretty_command(argv, _server_path(str(src.model))))
        return v

    def build(self, b: BuildInputs, events: Emitter) -> dict:
        events.stage("scripts", msg("writing serve.sh, serve.cmd and serve.ps1"))
        model = _server_path(str(b.source.model))
        header = [f"QuantDesk: vLLM for {b.source.model.name} ({b.verdict.info['scheme']}).",
                  "Override the model path with QUANTDESK_MODEL=...; extra vLLM flags go after the script's name."]
        scripts.write_text(b.partial, "serve.sh", scripts.sh_script(
            b.verdict.info["argv"], header, model_var=(scripts.MODEL_VAR, model)), executable=True)
        wsl = ["vLLM has no Windows build: this runs serve.sh in WSL (install once: wsl --install, then "
               "pip install vllm inside WSL)."]
        scripts.write_text(b.partial, "serve.cmd", scripts.cmd_via_wsl("serve.sh", wsl))
        scripts.write_text(b.partial, "serve.ps1", scripts.ps1_via_wsl("serve.sh", wsl))
        return {"files": ["serve.sh", "serve.cmd", "serve.ps1"], "command": b.verdict.info["command"]}

    def verify(self, b: BuildInputs, events: Emitter) -> dict:
        return verify_scripts(b, ["serve.sh"])


def _server_path(model: str) -> str:
    """The model folder as the server (Linux or WSL) sees it."""
    return scripts.wsl_path(model) if scripts.is_windows_path(model) else model


def verify_scripts(b: BuildInputs, names: list[str]) -> dict:
    """bash -n on the scripts, and the model folder's weights readable (headers checked, no torch)."""
    import shutil

    from services.modelfiles import check_weights
    from services.runtime import process

    problems = []
    bash = shutil.which("bash") or ""
    for n in names if bash else []:
        proc = process.run([bash, "-n", str(b.partial / n)], timeout=30)
        if proc.returncode != 0:
            problems.append(f"{n}: {proc.stderr.strip()}")
    errors, _, _ = check_weights(b.source.model)
    problems += errors
    return {"ok": not problems, "problems": problems, "syntax_checked": bool(bash)}
