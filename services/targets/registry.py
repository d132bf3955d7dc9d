"""The export targets, by name (a new target is one entry here)."""
from __future__ import annotations

from services.messages import msg
from services.targets.base import Target
from services.targets.edge10 import Edge10Target
from services.targets.gguf import GgufTarget
from services.targets.hf import TransformersTarget
from services.targets.lmdeploy import LmdeployTarget
from services.targets.qserve import QserveTarget
from services.targets.vllm import VllmTarget

TARGETS: dict[str, Target] = {t.name: t for t in (VllmTarget(), LmdeployTarget(), TransformersTarget(), GgufTarget(),
                                                  Edge10Target(), QserveTarget())}


def get_target(name: str) -> Target:
    target = TARGETS.get(name)
    if target is None:
        raise ValueError(msg("unknown target {name!r}; targets: {targets}", name=name, targets=", ".join(TARGETS)))
    return target
