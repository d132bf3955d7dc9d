"""The interface every quantization backend implements (AutoAWQ today, llm-compressor next).

A backend says which methods it offers and its settings (a QuantSettings subclass and a schema
the CLI and panel build their fields from), adds its own pre-flight rules, quantizes into the
job's partial folder, and checks what it wrote. The description (this class) imports no ML library; the work lives in
the module named by `runner`, imported only in the job runner. The generic job (services/quant/job.py) does the
rest: calibration data, side files, quantdesk.json, the final move into place.
"""
from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.jobs.events import Emitter
from services.quant.settings import QuantSettings
from services.schema import Setting

__all__ = ["QuantBackend", "QuantizeInputs", "Setting"]


@dataclass
class QuantizeInputs:
    model_dir: Path
    partial: Path  # write the quantized model here
    settings: QuantSettings
    tokenizer: Any
    samples: list[list[int]]  # calibration token ids, each `settings.seqlen` long
    device: str


class QuantBackend(ABC):
    name: str = ""
    methods: tuple[str, ...] = ()
    settings_class: type[QuantSettings] = QuantSettings
    schema: tuple[Setting, ...] = ()
    runner: str = ""  # module with quantize(inputs, events) and verify(folder, sample, device, s)

    def settings(self, params: dict) -> QuantSettings:
        return self.settings_class.from_dict(params)

    def needs_calibration(self, s: QuantSettings) -> bool:
        """False for methods that need no calibration data (e.g. dynamic FP8)."""
        return True

    def notes(self, s: QuantSettings) -> list[str]:
        """What the user should know about where the output runs (GPU generations, engines)."""
        return []

    def output_ratio(self, s: QuantSettings) -> float:
        """Output size / input size of the weights, for the disk estimate (4-bit: about 0.3)."""
        return 0.32

    @abstractmethod
    def output_format(self, s: QuantSettings) -> str:
        """The checkpoint format written (services/checkpoint.py names), e.g. "awq"."""

    @abstractmethod
    def check_model(self, cfg: dict, s: QuantSettings) -> tuple[list[str], list[str]]:
        """(errors, warnings) of this backend's rules for the model's config.json and the settings."""

    def _work(self):
        # the module that does the work imports torch: by name, so the GUI never loads it
        return importlib.import_module(self.runner)

    def quantize(self, inputs: QuantizeInputs, events: Emitter) -> None:
        """Load, quantize and save into `inputs.partial` (in the job runner)."""
        self._work().quantize(inputs, events)

    def verify(self, folder: Path, sample: list[int], device: str, s: QuantSettings) -> dict:
        """Load what was written and check its logits on one sample: {"logits_finite": bool|None, ...}."""
        return self._work().verify(folder, sample, device, s)
