"""AWQ-style weights for the scan: an activation-aware scale per input channel, searched on calibration
activations, then round-to-nearest on the scaled weights (job runner only: torch).

As AutoAWQ's `auto_scale`: for alpha in a grid of 20 (0, 0.05, ... 0.95), scales = mean|x|^alpha (per input
channel, normalised by sqrt(max x min)), weight' = Q(W * s) / s, and the alpha whose output on the calibration
tokens is closest (mean squared error) to the unquantized layer's wins; alpha 0 is plain round-to-nearest, so the
search never does worse than RTN on those tokens. Linear layers that read the same input (q/k/v after the
attention norm, gate/up after the MLP norm) share one scale when they are quantized together (a block unit), as
AWQ folds it into the norm before them. Not done here: AutoAWQ's clipping search (auto_clip), and the sequential
pass through already-quantized blocks (every unit's scales come from the unquantized model's activations).
"""
from __future__ import annotations

from dataclasses import dataclass, field

GRID = 20
SAMPLE_TOKENS = 512  # calibration rows kept per input for the loss; the channel means use every token
SHARED_INPUTS = {"q_proj": "attn_in", "k_proj": "attn_in", "v_proj": "attn_in", "gate_proj": "mlp_in",
                 "up_proj": "mlp_in"}


def input_key(name: str) -> str:
    """Linear layers of one block with the same key read the same tensor."""
    block, _, last = name.rpartition(".")
    shared = SHARED_INPUTS.get(last)
    return f"{block.rpartition('.')[0]}:{shared}" if shared else name


@dataclass
class InputStats:
    abs_sum: object = None  # tensor [in]: sum of |x| over every calibration token
    tokens: int = 0
    rows: list = field(default_factory=list)  # up to SAMPLE_TOKENS rows of x (float32, on the model's device)

    @property
    def kept(self) -> int:
        return sum(r.shape[0] for r in self.rows)

    def add(self, x) -> None:
        x = x.detach().reshape(-1, x.shape[-1]).float()
        s = x.abs().sum(0)
        self.abs_sum = s if self.abs_sum is None else self.abs_sum + s
        self.tokens += x.shape[0]
        room = SAMPLE_TOKENS - self.kept
        if room > 0:
            self.rows.append(x[:room].clone())

    def mean(self):
        return self.abs_sum / max(1, self.tokens)

    def sample(self):
        import torch

        return torch.cat(self.rows)


def collect_inputs(model, windows: list, linears: dict) -> dict[str, InputStats]:
    """One forward over the calibration `windows` (token tensors) with every linear's input recorded:
    {input key: InputStats}. `linears`: {module name: nn.Linear}."""
    import torch

    stats: dict[str, InputStats] = {}
    hooks = []
    for name, m in linears.items():
        key = input_key(name)
        if key in stats:
            continue  # one recording per shared input
        stats[key] = InputStats()
        hooks.append(m.register_forward_pre_hook(lambda mod, args, st=stats[key]: st.add(args[0])))
    try:
        with torch.no_grad():
            for x in windows:
                model(x, use_cache=False)
    finally:
        for h in hooks:
            h.remove()
    return stats


def scaled_weight(w, scales, bits: int, group: int):
    """Q(W * s) / s in W's dtype: what the layer computes once AWQ folded 1/s into its input."""
    from services.insight.scan import fake_quantize

    wf = w.float()
    return (fake_quantize(wf * scales, bits, group) / scales).to(w.dtype)


def search_scales(mods: list, stats: dict[str, InputStats], bits: int, group: int) -> dict[str, tuple]:
    """{module name: (scales [in], alpha)} for the modules of one unit; modules sharing an input share a scale."""
    import torch

    groups: dict[str, list] = {}
    for name, m in mods:
        groups.setdefault(input_key(name), []).append((name, m))
    out: dict[str, tuple] = {}
    with torch.no_grad():
        for key, members in groups.items():
            st = stats[key]
            x, mean = st.sample(), st.mean()
            weights = [m.weight.float() for _, m in members]
            ref = torch.cat([x @ w.T for w in weights], 1)
            best = (float("inf"), 0.0, torch.ones_like(mean))
            for i in range(GRID):
                alpha = i / GRID
                s = mean.pow(alpha).clamp(min=1e-4)
                s = s / (s.max() * s.min()).sqrt()
                got = torch.cat([x @ scaled_weight(w, s, bits, group).T for w in weights], 1)
                loss = float((ref - got).pow(2).mean())
                if loss < best[0]:
                    best = (loss, alpha, s)
            for name, _ in members:
                out[name] = (best[2], best[1])
    return out
