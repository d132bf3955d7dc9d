"""What a model folder's config.json says about its shape (no weights loaded, no torch)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from services.messages import msg

DTYPE_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4, "float8_e4m3fn": 1, "int8": 1}


class ModelConfigError(ValueError):
    """config.json is missing or does not describe a decoder we can size."""


@dataclass(frozen=True)
class ModelShape:
    architecture: str
    model_type: str
    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    tied_embeddings: bool
    dtype: str
    max_positions: int | None
    attention_bias: bool
    mlp_bias: bool = False
    quantization: dict = field(default_factory=dict)

    @property
    def linear_layers(self) -> list[tuple[str, int, int]]:
        """(name, in_features, out_features) of the linear layers in one decoder layer."""
        q_out = self.heads * self.head_dim
        kv_out = self.kv_heads * self.head_dim
        return [
            ("self_attn.q_proj", self.hidden, q_out),
            ("self_attn.k_proj", self.hidden, kv_out),
            ("self_attn.v_proj", self.hidden, kv_out),
            ("self_attn.o_proj", q_out, self.hidden),
            ("mlp.gate_proj", self.hidden, self.intermediate),
            ("mlp.up_proj", self.hidden, self.intermediate),
            ("mlp.down_proj", self.intermediate, self.hidden),
        ]

    def parameter_count(self) -> int:
        per_layer = sum(i * o for _, i, o in self.linear_layers) + 2 * self.hidden
        if self.attention_bias:
            per_layer += (self.heads + 2 * self.kv_heads) * self.head_dim
        emb = self.vocab * self.hidden
        return self.layers * per_layer + emb + (0 if self.tied_embeddings else emb) + self.hidden


def _first(cfg: dict, *names, default=None):
    for n in names:
        if cfg.get(n) is not None:
            return cfg[n]
    return default


def text_config(cfg: dict) -> dict:
    """The language model's part of a config (multimodal configs nest it in text_config)."""
    if not isinstance(cfg, dict):
        raise ModelConfigError(msg("config.json must be a JSON object, not a list or a value"))
    text = cfg.get("text_config")
    if text is None:
        return cfg
    if not isinstance(text, dict):
        raise ModelConfigError(msg("config.json's text_config is not an object: is this file damaged?"))
    return text


def _positive(text: dict, name: str, default=None) -> int:
    value = text.get(name, default)
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ModelConfigError(msg("config.json's {name} is {value!r}, not a whole number",
                                   name=name, value=value)) from None
    if n <= 0:
        raise ModelConfigError(msg("config.json's {name} is {value}: it must be 1 or more", name=name, value=n))
    return n


def shape_from_config(cfg: dict) -> ModelShape:
    """Build a ModelShape from a parsed config.json; raise ModelConfigError naming what is wrong."""
    text = text_config(cfg)
    if _first(text, "num_experts", "num_local_experts", "n_routed_experts"):
        raise ModelConfigError(msg("mixture-of-experts models are not supported by the planner yet"))
    missing = [n for n in ("num_hidden_layers", "hidden_size", "num_attention_heads") if n not in text]
    if missing:
        raise ModelConfigError(msg("config.json lacks {names}: is this a decoder language model?",
                                   names=", ".join(missing)))
    hidden, heads = _positive(text, "hidden_size"), _positive(text, "num_attention_heads")
    archs = cfg.get("architectures") or [cfg.get("model_type", "unknown")]
    model_type = text.get("model_type", cfg.get("model_type", ""))
    dtype = str(_first(text, "torch_dtype", "dtype", default=_first(cfg, "torch_dtype", "dtype", default="float16")))
    quant = cfg.get("quantization_config")
    return ModelShape(
        architecture=str(archs[0]) if isinstance(archs, list) and archs else str(model_type or "unknown"),
        model_type=str(model_type),
        layers=_positive(text, "num_hidden_layers"),
        hidden=hidden,
        intermediate=_positive(text, "intermediate_size", _first(text, "ffn_hidden_size", default=4 * hidden)),
        heads=heads,
        kv_heads=_positive(text, "num_key_value_heads", heads),
        head_dim=_positive(text, "head_dim", text.get("head_dim") or hidden // heads or 1),
        vocab=_positive(text, "vocab_size", cfg.get("vocab_size", 32000)),
        tied_embeddings=bool(_first(text, "tie_word_embeddings", default=cfg.get("tie_word_embeddings", False))),
        dtype=dtype.replace("torch.", ""),
        max_positions=_first(text, "max_position_embeddings"),
        attention_bias=bool(text.get("attention_bias", model_type == "qwen2")),
        mlp_bias=bool(text.get("mlp_bias", False)),
        quantization=dict(quant) if isinstance(quant, dict) else {},
    )


def read_config(model_dir: Path | str) -> dict:
    """`model_dir/config.json` as a dict; raise ModelConfigError with what to change."""
    path = Path(model_dir) / "config.json"
    if not Path(model_dir).exists():
        raise ModelConfigError(msg("model folder not found: {path}", path=model_dir))
    if not Path(model_dir).is_dir():
        raise ModelConfigError(msg("{path} is a file: pick the folder that holds the model's config.json",
                                   path=model_dir))
    if not path.is_file():
        raise ModelConfigError(msg("no config.json in {path}: pick the folder that holds the model's config.json",
                                   path=model_dir))
    try:
        cfg = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ModelConfigError(msg("config.json in {path} is not valid JSON ({reason})", path=model_dir,
                                   reason=exc)) from exc
    if not isinstance(cfg, dict):
        raise ModelConfigError(msg("config.json in {path} is a JSON {kind}, not an object: "
                                   "is this a Hugging Face model folder?", path=model_dir, kind=type(cfg).__name__))
    return cfg


def read_model_shape(model_dir: Path | str) -> ModelShape:
    """Read `model_dir/config.json`; raise ModelConfigError with what to change."""
    return shape_from_config(read_config(model_dir))


def model_line(shape: ModelShape) -> str:
    """One line about a model for the planner: its architecture, size, parameters, dtype (and quantization)."""
    args = dict(arch=shape.architecture, layers=shape.layers, hidden=shape.hidden, heads=shape.heads,
                kv_heads=shape.kv_heads, params=format_params(shape.parameter_count()), dtype=shape.dtype)
    if shape.quantization:
        return msg("{arch}: {layers} × {hidden}, {heads} heads ({kv_heads} KV), {params} params, {dtype}, {quant}",
                   quant=shape.quantization.get("quant_method"), **args)
    return msg("{arch}: {layers} × {hidden}, {heads} heads ({kv_heads} KV), {params} params, {dtype}", **args)


def format_params(n: int) -> str:
    """6738415616 -> "6.74 B"; 1300000 -> "1.3 M"."""
    if n >= 1e9:
        return f"{n / 1e9:.2f} B"
    if n >= 1e6:
        return f"{n / 1e6:.1f} M"
    return f"{n / 1e3:.0f} K"
