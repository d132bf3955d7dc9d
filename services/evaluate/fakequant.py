"""Weight and activation fake quantization for simulated precisions (imports torch: job runner and tests only).

Weights: round-to-nearest, asymmetric, one scale and zero point per group of input columns of each output
channel (or per output channel), zero points clamped to the stored integer range as a real checkpoint
keeps them. Activations: symmetric per token (one scale per row), QServe's dynamic A8. Every nn.Linear is
quantized but the output head (lm_head, or a layer that shares the input embedding's weight).
"""
from __future__ import annotations

from services.evaluate.precision import PER_CHANNEL, Precision
from services.messages import msg


def fake_quant_weight(w, bits: int, group_size: int = PER_CHANNEL):
    """`w` [out, in] quantized and dequantized; a new tensor of w's dtype."""
    import torch

    n_out, n_in = w.shape
    g = n_in if group_size == PER_CHANNEL else group_size
    if n_in % g:
        raise ValueError(msg("group size {group} does not divide {n_in} input features", group=group_size, n_in=n_in))
    levels = 2**bits - 1
    wf = w.float().reshape(n_out, n_in // g, g)
    lo, hi = wf.amin(-1, keepdim=True), wf.amax(-1, keepdim=True)
    scale = ((hi - lo) / levels).clamp(min=1e-8)
    zero = torch.clamp(torch.round(-lo / scale), 0, levels)
    q = torch.clamp(torch.round(wf / scale) + zero, 0, levels)
    return ((q - zero) * scale).reshape(n_out, n_in).to(w.dtype)


def fake_quant_tokens(x, bits: int = 8):
    """`x` quantized and dequantized per token (along the last dim), symmetric: scale = absmax / (2^(bits-1) - 1)."""
    import torch

    qmax = 2 ** (bits - 1) - 1
    xf = x.float()
    scale = xf.abs().amax(-1, keepdim=True).clamp(min=1e-8) / qmax
    return (torch.clamp(torch.round(xf / scale), -qmax, qmax) * scale).to(x.dtype)


def quantized_linears(model) -> list:
    """(name, module) of the linear layers a simulated precision quantizes: all but the output head."""
    import torch

    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    emb = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    tied = getattr(emb, "weight", None)
    return [(n, m) for n, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and m is not head and n.split(".")[-1] != "lm_head"
            and m.weight is not tied]


def quantize_weights_(model, bits: int, group_size: int) -> int:
    """Fake-quantize the weights of `model`'s linear layers in place; returns how many layers."""
    import torch

    layers = quantized_linears(model)
    with torch.no_grad():
        for _, m in layers:
            m.weight.copy_(fake_quant_weight(m.weight, bits, group_size))
    return len(layers)


def quantize_inputs(model, bits: int = 8) -> list:
    """Forward pre-hooks that fake-quantize every quantized linear layer's input; remove the returned handles."""
    def hook(_module, args):
        return (fake_quant_tokens(args[0], bits), *args[1:])

    return [m.register_forward_pre_hook(hook) for _, m in quantized_linears(model)]


def simulated_copy(model, p: Precision, group_size: int):
    """A deep copy of `model` with `p`'s weights; add `p`'s activations with `quantize_inputs`."""
    import copy

    sim = copy.deepcopy(model)
    if p.weight_bits:
        quantize_weights_(sim, p.weight_bits, p.group(group_size))
    return sim
