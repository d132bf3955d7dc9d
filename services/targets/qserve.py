"""QServe (W4A8KV4, QoQ): a script folder for a Linux CUDA host, never run here.

From an fp16/bf16 Hugging Face folder it writes `qserve.sh` (DeepCompressor's QoQ quantization, OmniServe's
checkpoint converter, OmniServe's generation) and a README with the prerequisites and the group-size advice:
per channel (-1) on flagship datacenter GPUs (A100/H100 class), groups of 128 on L40S and consumer GPUs.
Evaluate the same precision first with `quantdesk eval --precision w4a8kv4 --group-size ...`.
"""
from __future__ import annotations

import platform

from services.checkpoint import UNQUANTIZED
from services.envcheck.model import CheckResult, Fix
from services.jobs.events import Emitter
from services.messages import msg
from services.modelinfo import ModelShape
from services.targets import qserve_scripts as qs
from services.targets import scripts
from services.targets.base import BuildInputs, Target, TargetInput, Verdict
from services.targets.gpus import Gpu

LLAMA_LIKE = ("LlamaForCausalLM", "MistralForCausalLM")  # what OmniServe's converter (--model-type llama) takes
FLAGSHIP_SM = (80, 90)  # A100 / H100 class: per-channel; others (L40S sm89, RTX sm86/89/120): g128
MIN_SM = 80  # FlashAttention-2 and QServe's kernels (built for sm80, 86, 89, 90)
PACK = 32  # QServe packs weights in tiles of 32 rows and 32 columns
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model")


def advised_group(gpu: Gpu | None) -> tuple[int, str]:
    """(group size, the advice in words) for the GPU the model will be served on."""
    if gpu is None or not gpu.sm:
        why = msg("No GPU was named") if gpu is None else \
            msg("The {gpu}'s compute capability is not known", gpu=gpu.name)
        return -1, msg("{why}: QServe advises per-channel (-1) on A100-class GPUs and groups of 128 on L40S and "
                       "consumer GPUs (export with --gpu NAME); without a GPU, auto picks per-channel, QServe's "
                       "default.", why=why)
    if gpu.sm in FLAGSHIP_SM:
        return -1, msg("QServe advises per-channel (-1) on flagship datacenter GPUs such as the {gpu}.", gpu=gpu.name)
    return 128, msg("QServe advises groups of 128 on inference and consumer GPUs such as the {gpu}.", gpu=gpu.name)


def model_name(shape: ModelShape) -> str:
    """DeepCompressor's --model-name (family-size, e.g. llama-8b) from the model type and parameter count."""
    n = shape.parameter_count()
    size = f"{max(1, round(n / 1e9))}b" if n >= 1e9 else f"{max(1, round(n / 1e6))}m"
    return f"{shape.model_type or 'llama'}-{size}"


def shape_errors(shape: ModelShape, group: int) -> list[str]:
    out = []
    for layer, n_in, n_out in shape.linear_layers:
        if n_in % PACK or n_out % PACK:
            out.append(msg("QServe packs 4-bit weights in tiles of {pack}: {layer} is {n_in} x {n_out}, which does not "
                           "divide; this model cannot be served by QServe", pack=PACK, layer=layer, n_in=n_in,
                           n_out=n_out))
            break
    if group > 0 and (bad := [(n, i) for n, i, _ in shape.linear_layers if i % group]):
        layer, n_in = bad[0]
        out.append(msg("--group-size {group} does not divide {layer}'s {n_in} input features: use --group-size -1",
                       group=group, layer=layer, n_in=n_in))
    return out


def _gpu_check() -> CheckResult:
    from services.telemetry.gpu import NvmlReader

    reader = NvmlReader()
    gpus = reader.devices() if reader.available else []
    title = msg("NVIDIA GPU, compute capability 8.0+")
    if not gpus:
        return CheckResult("qserve:gpu", title, "fail", msg("no NVIDIA GPU found (QServe needs CUDA)"))
    cc = gpus[0].compute_capability
    if cc and cc[0] * 10 + cc[1] < MIN_SM:
        return CheckResult("qserve:gpu", title, "fail",
                           msg("{gpu} is sm{sm}; QServe needs sm80 or newer", gpu=gpus[0].name,
                               sm=f"{cc[0]}{cc[1]}"))
    return CheckResult("qserve:gpu", title, "ok", f"{gpus[0].name}")


def _flash_attn_check() -> CheckResult:
    import importlib.util

    if importlib.util.find_spec("flash_attn") is not None:
        return CheckResult("module:flash_attn", "FlashAttention-2", "ok", msg("flash-attn is installed"))
    return CheckResult("module:flash_attn", "FlashAttention-2", "fail", msg("flash-attn is not installed"), fix=Fix(
        "command", msg("install FlashAttention-2 (Linux, CUDA)"), command="pip install flash-attn --no-build-isolation"))


class QserveTarget(Target):
    name = "qserve"
    title = "QServe"
    summary = "QServe W4A8KV4: scripts for DeepCompressor's QoQ, OmniServe's converter and generation (Linux, CUDA)"
    scripts_without_prerequisites = True
    accepts_job_source = True  # a quantize job id: QoQ starts again from that job's fp16 source model

    def prerequisites(self, params: dict | None = None) -> list[CheckResult]:
        system = platform.system()
        linux = CheckResult("qserve:linux", "Linux", "ok" if system == "Linux" else "fail",
                            system if system == "Linux" else
                            msg("{system}: QServe runs on Linux (or WSL2) only", system=system))
        return [linux, _gpu_check(), _flash_attn_check()]

    def check(self, src: TargetInput, params: dict, gpu: Gpu | None) -> Verdict:
        v = Verdict()
        if src.fmt.kind != UNQUANTIZED:
            v.errors.append(msg("QServe's pipeline starts from the fp16/bf16 Hugging Face model (DeepCompressor "
                                "quantizes it with QoQ); this one is a {format} checkpoint: give its source model",
                                format=src.fmt.describe()))
            return v
        if gpu is not None and gpu.sm and gpu.sm < MIN_SM:
            v.errors.append(msg("QServe needs compute capability 8.0 or newer (FlashAttention-2, its W4A8 kernels); "
                                "{gpu} is older: serve on an A100, L40S or RTX 30/40 card, or use another target",
                                gpu=gpu.describe()))
        group, advice = advised_group(gpu)
        asked = params.get("group_size") or "auto"
        if asked != "auto":
            chosen = int(asked)
            if gpu is not None and gpu.sm and chosen != group:
                v.warnings.append(msg("--group-size {group} on {gpu}: {advice}", group=chosen, gpu=gpu.name,
                                      advice=advice))
            group = chosen
        if not any((src.model / n).is_file() for n in TOKENIZER_FILES):
            v.errors.append(msg("{model} has no tokenizer ({files}): DeepCompressor and OmniServe load it from the "
                                "model folder; copy it from the source model", model=src.model.name,
                                files=" or ".join(TOKENIZER_FILES)))
        arch = (src.cfg.get("architectures") or ["?"])[0]
        if arch not in LLAMA_LIKE:
            v.warnings.append(msg("{arch} is not a Llama-family model: OmniServe's checkpoint converter takes Llama "
                                  "layouts ({archs}), so the conversion may fail", arch=arch,
                                  archs=", ".join(LLAMA_LIKE)))
        if src.shape is not None:
            v.errors += shape_errors(src.shape, group)
        model = str(src.model)
        try:
            linux_model = scripts.wsl_path(model) if scripts.is_windows_path(model) else model
        except ValueError as exc:
            v.errors.append(str(exc))
            return v
        if any(c in qs.SHELL_CHARS for c in linux_model):
            v.warnings.append(msg("{path} has spaces or shell characters, which OmniServe's checkpoint converter "
                                  "cannot take (it hands paths to the shell unquoted): the script stops until you "
                                  "set QUANTDESK_MODEL (and WORK_DIR) to paths without them", path=model))
        if v.errors or src.shape is None:
            return v
        run = qs.QserveRun(linux_model, model_name(src.shape), group, params["precision"], params["max_seqs"], advice)
        v.notes.append(msg("QServe {precision}, {groups}: scripts only, QuantDesk runs none of the steps",
                              precision=run.precision, groups=run.groups))
        v.info.update(run=run.__dict__, command="bash qserve.sh")
        return v

    def build(self, b: BuildInputs, events: Emitter) -> dict:
        events.stage("scripts", msg("writing qserve.sh and README.md"))
        run = qs.QserveRun(**b.verdict.info["run"])
        scripts.write_text(b.partial, "qserve.sh", qs.script(run), executable=True)
        scripts.write_text(b.partial, "README.md", qs.readme(run, b.source.model.name, b.verdict.warnings))
        return {"files": ["qserve.sh", "README.md"], "command": f"bash {scripts.sh_quote(str(b.out / 'qserve.sh'))}",
                "ran": False}

    def verify(self, b: BuildInputs, events: Emitter) -> dict:
        from services.targets.vllm import verify_scripts

        r = verify_scripts(b, ["qserve.sh"])
        if not (b.partial / "README.md").is_file():
            r["problems"].append(msg("README.md was not written"))
        r.update(ok=not r["problems"], scripts_only=True)
        return r
