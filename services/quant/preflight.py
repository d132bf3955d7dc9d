"""Check a quantization before any weights load: the folder, the architecture, group size against
every layer, the output folder, disk and memory. Every problem says what to change."""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.datasets.catalog import CATALOG
from services.quant.settings import GROUP_SIZES, AwqSettings

GIB = 1024**3
# AutoAWQ 0.2.9's AWQ_CAUSAL_LM_MODEL_MAP (tests/unit/test_quant_preflight.py keeps this in step)
AUTOAWQ_MODEL_TYPES = (
    "mpt", "llama", "opt", "exaone", "falcon", "bloom", "gptj", "gpt_bigcode", "mistral", "mixtral", "gpt_neox",
    "aquila", "qwen", "baichuan", "llava", "qwen2", "qwen3", "qwen3_moe", "gemma", "gemma2", "stablelm", "starcoder2",
    "llava_next", "phi3", "phi3_v", "cohere", "deepseek_v2", "deepseek_v3", "minicpm", "internlm2", "minicpm3",
    "qwen2_vl", "qwen2_5_vl", "qwen2_5_omni", "RefinedWeb", "RefinedWebModel", "Yi",
)


@dataclass
class PreflightReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {"ok": self.ok, "errors": self.errors, "warnings": self.warnings, "info": self.info}


def weight_files(model_dir: Path) -> list[Path]:
    files = sorted(model_dir.glob("*.safetensors")) or sorted(model_dir.glob("pytorch_model*.bin"))
    return [f for f in files if f.is_file()]


def layer_inputs(cfg: dict) -> dict[str, int]:
    """Input sizes of the linear layers AWQ quantizes, by the config field they come from."""
    text = cfg.get("text_config") or cfg
    hidden = int(text["hidden_size"])
    heads = int(text.get("num_attention_heads", 1))
    head_dim = int(text.get("head_dim") or hidden // heads)
    dims = {"hidden_size (q/k/v/gate/up inputs)": hidden,
            "num_attention_heads x head_dim (o_proj input)": heads * head_dim}
    for name in ("intermediate_size", "moe_intermediate_size", "shared_expert_intermediate_size"):
        if text.get(name):
            dims[f"{name} (down_proj input)"] = int(text[name])
    return dims


def suggest_group(dims: dict[str, int]) -> int | None:
    return next((g for g in GROUP_SIZES if all(d % g == 0 for d in dims.values())), None)


def _dir_free(path: Path) -> int:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free


def _ram_free() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def preflight(model_dir: str | Path, out_dir: str | Path, s: AwqSettings,
              disk_free: Callable[[Path], int] = _dir_free, memory_free: Callable[[], int] = _ram_free,
              ) -> PreflightReport:
    """Everything that can be known before loading weights."""
    r = PreflightReport(errors=list(s.problems()))
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    if s.calib.strip().lower() not in CATALOG and not Path(s.calib).expanduser().exists():
        r.errors.append(f"calibration source {s.calib} does not exist: pick a file or folder, or a dataset name "
                        f"({', '.join(CATALOG)})")
    if not model_dir.is_dir():
        r.errors.append(f"model folder not found: {model_dir}")
        return r
    cfg_path = model_dir / "config.json"
    if not cfg_path.is_file():
        r.errors.append(f"no config.json in {model_dir}: pick the folder that holds the model's config.json")
        return r
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8-sig"))
    except ValueError as exc:
        r.errors.append(f"config.json in {model_dir} is not valid JSON ({exc})")
        return r
    files = weight_files(model_dir)
    if not files:
        r.errors.append(f"no weights in {model_dir} (no *.safetensors or pytorch_model*.bin): "
                        "download the full model, not only its config")
    index = model_dir / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
            missing = sorted(x for x in shards if not (model_dir / x).is_file())
            if missing:
                r.errors.append(f"{len(missing)} weight shard(s) missing, e.g. {missing[0]}: the download is incomplete")
        except (ValueError, KeyError):
            r.warnings.append("model.safetensors.index.json is unreadable")
    if cfg.get("quantization_config"):
        method = cfg["quantization_config"].get("quant_method", "?")
        r.errors.append(f"this model is already quantized ({method}): start from the fp16/bf16 model")
    model_type = str(cfg.get("model_type") or (cfg.get("text_config") or {}).get("model_type", ""))
    arch = (cfg.get("architectures") or [model_type or "unknown"])[0]
    r.info.update(model_type=model_type, architecture=arch)
    if model_type not in AUTOAWQ_MODEL_TYPES:
        r.errors.append(f"AutoAWQ does not support {arch} (model_type {model_type!r}); supported: "
                        f"{', '.join(AUTOAWQ_MODEL_TYPES)}")
    if cfg.get("auto_map") and not s.trust_remote_code:
        r.errors.append("this model ships its own Python code (auto_map in config.json); allow it with "
                        "--trust-remote-code only if you trust its author")
    try:
        dims = layer_inputs(cfg)
    except (KeyError, TypeError, ValueError):
        r.errors.append("config.json lacks hidden_size / num_attention_heads: is this a decoder language model?")
        dims = {}
    bad = {k: v for k, v in dims.items() if v % s.group_size}
    if bad:
        name, value = next(iter(bad.items()))
        better = suggest_group(dims)
        r.errors.append(f"group size {s.group_size} does not divide {name} = {value}"
                        + (f"; use --group-size {better}" if better else "; no group size of 128/64/32 fits this model"))
    text = cfg.get("text_config") or cfg
    r.info.update(layers=text.get("num_hidden_layers"), hidden_size=text.get("hidden_size"),
                  dtype=str(text.get("torch_dtype") or text.get("dtype") or cfg.get("torch_dtype") or "float16"))

    weights = sum(f.stat().st_size for f in files)
    r.info["weights_bytes"] = weights
    est_out = int(weights * 0.32) + 50 * 1024**2  # 4-bit weights + scales/zeros + unquantized embeddings
    r.info["estimated_output_bytes"] = est_out
    if out_dir.exists() and any(out_dir.iterdir()):
        if s.overwrite:
            r.warnings.append(f"{out_dir} exists and will be replaced when the job succeeds")
        else:
            r.errors.append(f"output folder {out_dir} exists and is not empty: pick another or use --overwrite")
    free = disk_free(out_dir)
    r.info["free_disk_bytes"] = free
    if free < est_out * 1.2:
        r.errors.append(f"not enough disk space at {out_dir.parent}: {free / GIB:.1f} GiB free, about "
                        f"{est_out * 1.2 / GIB:.1f} GiB needed; free some space or pick another output folder")
    if dims:
        hidden = int(text["hidden_size"])
        widest = max(dims.values())
        act = s.samples * s.seqlen * (hidden * 2 * 3 + widest * 2)  # layer inputs, outputs and the widest feature
        need = weights + act
        r.info["estimated_memory_bytes"] = need
        avail = memory_free()
        r.info["free_memory_bytes"] = avail
        if need > avail:
            r.warnings.append(f"this job may need about {need / GIB:.1f} GiB of RAM but {avail / GIB:.1f} GiB is free: "
                              "lower --samples or --seqlen, or close other programs")
    return r
