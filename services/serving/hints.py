"""Engine log lines turned into what to change: the failures users meet most when a server starts."""
from __future__ import annotations

import re
from collections.abc import Iterable

from services.messages import msg

HINTS: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(p, re.I), h) for p, h in (
    (r"CUDA out of memory|OutOfMemoryError|No available memory for the cache blocks|out of memory",
     msg("the GPU ran out of memory: lower --context or --max-seqs in the export, pick a smaller KV cache "
         "(--kv fp8/int8), or close what else uses the GPU")),
    (r"(unsupported|not supported).{0,40}group[_ ]size|group[_ ]size.{0,60}(unsupported|not supported)",
     msg("the engine's kernels do not take this group size: re-quantize with --group-size 128")),
    (r"no kernel image is available|sm_\d+ is not compatible|compute capability.{0,40}(not supported|too low)",
     msg("this engine build has no kernels for this GPU: use a GPU it supports or another engine")),
    (r"Address already in use|error while attempting to bind|Errno 98|WinError 10048",
     msg("the port is taken: pick another --port (or leave it out for a free one)")),
    (r"larger than the maximum|max_model_len.{0,80}(greater|larger)|exceeds.{0,30}max_position",
     msg("the context is longer than the model allows: lower --context")),
    (r"failed to load model|error loading model|unknown model architecture|invalid magic",
     msg("the engine could not read the model: export it again, or check that this engine supports the architecture")),
    (r"ModuleNotFoundError|ImportError|undefined symbol",
     msg("the engine's environment is broken: reinstall it (quantdesk engines install ENGINE --reinstall)")),
    (r"Segmentation fault|SIGSEGV|exit status -11|exit status 139",
     msg("the engine crashed while loading: with llama.cpp on a CPU with AMX, serve with --extra-bufts off")),
    (r"could not broadcast input array|exceed(s|ed)? (the )?context window|Requested tokens .* exceed",
     msg("the prompt and its answer do not fit the context: serve with a larger --context or ask for fewer --max-tokens")),
    (r"trust_remote_code",
     msg("the model needs its own code: this engine must be started with --trust-remote-code")),
))


def hints_for(lines: Iterable[str]) -> list[str]:
    """The hints whose pattern matches the log, most specific first, each once."""
    text = "\n".join(lines)
    return [h for pattern, h in HINTS if pattern.search(text)]
