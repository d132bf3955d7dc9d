"""Quantization backends by name; each says which methods it offers (services/quant/backends/base.py)."""
from __future__ import annotations

from services.messages import msg
from services.quant.backends.autoawq import AutoAwqBackend
from services.quant.backends.base import QuantBackend
from services.quant.backends.llmcompressor import LlmCompressorBackend

BACKENDS: dict[str, QuantBackend] = {b.name: b for b in (AutoAwqBackend(), LlmCompressorBackend())}
# per method; AWQ stays on AutoAWQ (GEMM checkpoints) unless --backend llmcompressor (compressed-tensors)
DEFAULT_BACKEND = {"awq": "autoawq", "gptq": "llmcompressor", "w8a8": "llmcompressor",
                   "fp8-dynamic": "llmcompressor", "fp8": "llmcompressor"}


def methods() -> list[str]:
    return list(dict.fromkeys(m for b in BACKENDS.values() for m in b.methods))


def get_backend(name: str | None, method: str = "awq") -> QuantBackend:
    """The backend `name` (default: the method's default); ValueError naming the choices."""
    name = name or DEFAULT_BACKEND.get(method)
    backend = BACKENDS.get(name or "")
    if backend is None:
        raise ValueError(msg("unknown quantization backend {name!r}; choose one of {names}", name=name,
                             names=", ".join(BACKENDS)))
    if method not in backend.methods:
        offered = [b.name for b in BACKENDS.values() if method in b.methods]
        raise ValueError(msg("backend {backend} does not offer {method!r}", backend=backend.name, method=method) + "; "
                         + (msg("use --backend {backends}", backends=" or ".join(offered)) if offered else
                            msg("methods: {methods}", methods=", ".join(methods()))))
    return backend
