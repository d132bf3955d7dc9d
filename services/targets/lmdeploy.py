"""LMDeploy: `lmdeploy serve api_server` and `lmdeploy chat` for a checkpoint, with TurboMind's known
limits checked and `--cache-max-entry-count` from the planner (a fraction of the memory left free
after the weights). LMDeploy runs natively on Windows, so the .cmd/.ps1 call it directly."""
from __future__ import annotations

from services.checkpoint import AWQ, GPTQ, UNQUANTIZED
from services.jobs.events import Emitter
from services.memory.planner import check_tp
from services.messages import msg
from services.targets import scripts
from services.targets.base import BuildInputs, Target, TargetInput, Verdict
from services.targets.gpus import Gpu
from services.targets.serving import resolve_context, size_engine
from services.targets.vllm import verify_scripts

QUANT_POLICY = {"fp16": 0, "int8": 8, "int4": 4}
TURBOMIND_GROUP = 128


class LmdeployTarget(Target):
    name = "lmdeploy"
    title = "LMDeploy"
    summary = "lmdeploy serve api_server and lmdeploy chat (TurboMind or PyTorch engine)"

    def check(self, src: TargetInput, params: dict, gpu: Gpu | None) -> Verdict:
        v = Verdict()
        f = src.fmt
        if f.kind not in (AWQ, GPTQ, UNQUANTIZED):
            v.errors.append(msg("LMDeploy does not load {format} checkpoints: use the vLLM target, or quantize with "
                                "--method awq (AutoAWQ, GEMM)", format=f.describe()))
            return v
        if f.kind == AWQ and f.version == "gemv":
            v.errors.append(msg("LMDeploy loads AWQ checkpoints in the GEMM layout: re-quantize with --version gemm"))
        engine = params["engine"]
        quantized = f.kind in (AWQ, GPTQ)
        if quantized and f.weight_bits != 4:
            v.errors.append(msg("LMDeploy runs 4-bit AWQ/GPTQ weights, not {bits}-bit", bits=f.weight_bits))
        off_group = quantized and f.group_size != TURBOMIND_GROUP
        if off_group:
            why = msg("TurboMind runs AWQ/GPTQ W4A16 with group size {group} only; this model has {has}",
                      group=TURBOMIND_GROUP, has=f.group_size)
            if engine == "turbomind":
                v.errors.append(msg("{why}: use --engine pytorch (slower) or re-quantize with --group-size 128", why=why))
            elif engine == "auto":
                engine = "pytorch"
                v.warnings.append(msg("{why}, so the command uses the PyTorch engine (slower); re-quantize with "
                                      "--group-size 128 for TurboMind", why=why))
        if engine == "auto":
            engine = "turbomind"
        v.info["engine"] = engine
        if problem := scripts.cmd_problem(str(src.model)):
            v.errors.append(problem)
        v.notes.append(msg("engine: {engine}", engine="TurboMind" if engine == "turbomind" else "PyTorch"))
        if quantized and gpu and gpu.sm and gpu.sm < 75:
            v.errors.append(msg("LMDeploy's 4-bit kernels need compute capability 7.5 or newer; {gpu} is older: serve "
                                "the unquantized model", gpu=gpu.describe()))
        kv = params["kv"]
        if kv not in QUANT_POLICY:
            v.errors.append(msg("LMDeploy has no fp8 KV cache (--quant-policy is 0, 4 or 8): use --kv int8 or int4, "
                                "or the vLLM target for fp8"))
        if src.shape is not None:
            try:
                check_tp(src.shape, params["tp"], f.group_size if quantized and engine == "turbomind" else None)
            except ValueError as exc:
                v.errors.append(str(exc))
        if v.errors or src.shape is None:
            return v
        params["context"], err = resolve_context(params, src.cfg, src.shape)
        if err:
            v.errors.append(err)
            return v
        sizing = size_engine("lmdeploy", src.shape, gpu, params["context"], params["max_seqs"], kv,
                             params["tp"], group_size=f.group_size or 128)
        v.errors += sizing.errors
        v.notes += sizing.notes
        model_format = {AWQ: "awq", GPTQ: "gptq"}.get(f.kind, "hf")
        common = ["--model-format", model_format, "--quant-policy", str(QUANT_POLICY.get(kv, 0)),
                  "--tp", str(params["tp"]), "--session-len", str(params["context"])]
        common += ["--cache-max-entry-count", f"{sizing.fraction:g}"] if sizing.fraction else []
        common += ["--backend", engine]
        serve = ["lmdeploy", "serve", "api_server", scripts.MODEL, *common, "--server-port", str(params["port"]),
                 "--max-batch-size", str(params["max_seqs"]),
                 "--model-name", params.get("served_name") or src.model.name]
        chat = ["lmdeploy", "chat", scripts.MODEL, *common]
        model = str(src.model)
        v.info.update(serve=serve, chat=chat, sizing=sizing.to_dict(),
                      command=scripts.pretty_command(serve, model))
        return v

    def build(self, b: BuildInputs, events: Emitter) -> dict:
        events.stage("scripts", msg("writing serve and chat launchers (.sh, .cmd, .ps1)"))
        model = str(b.source.model)
        linux_model = scripts.wsl_path(model) if scripts.is_windows_path(model) else model
        engine = b.verdict.info["engine"]
        files = []
        for name, argv in (("serve", b.verdict.info["serve"]), ("chat", b.verdict.info["chat"])):
            header = [f"QuantDesk: LMDeploy ({engine}) {name} for {b.source.model.name}.",
                      "Extra lmdeploy flags go after the script's name."]
            native = [model if a == scripts.MODEL else a for a in argv]
            scripts.write_text(b.partial, f"{name}.sh", scripts.sh_script(
                argv, [*header, "Override the model path with QUANTDESK_MODEL=..."],
                model_var=(scripts.MODEL_VAR, linux_model)), executable=True)
            scripts.write_text(b.partial, f"{name}.cmd", scripts.cmd_native(native, header))
            scripts.write_text(b.partial, f"{name}.ps1", scripts.ps1_native(native, header))
            files += [f"{name}.sh", f"{name}.cmd", f"{name}.ps1"]
        return {"files": files, "command": b.verdict.info["command"], "engine": engine}

    def verify(self, b: BuildInputs, events: Emitter) -> dict:
        return verify_scripts(b, ["serve.sh", "chat.sh"])
