"""The QServe target's files: one bash script with the three upstream steps, and its README.

The commands follow the upstream READMEs: DeepCompressor's QoQ run (`python -m deepcompressor.app.llm.ptq
configs/qoq-gchn.yaml | qoq-g128.yaml ... --save-model DIR`, which writes model.pt and scale.pt),
OmniServe's `scripts/ckpt_converter/checkpoint_converter.py` (real-quantizes and packs them) and
OmniServe's `qserve_e2e_generation.py --precision ... --group-size ...`. QuantDesk runs none of them.
"""
from __future__ import annotations

from dataclasses import dataclass

from services.messages import msg
from services.targets.scripts import sh_quote

DEEPCOMPRESSOR = "https://github.com/mit-han-lab/deepcompressor"
OMNISERVE = "https://github.com/mit-han-lab/OmniServe"
# DeepCompressor's QoQ recipes (examples/llm/configs): per output channel, or progressive with groups of 128
RECIPES = {-1: "qoq-gchn.yaml", 128: "qoq-g128.yaml"}
# characters the converter's unquoted os.system() calls would break on: whitespace and shell syntax
SHELL_CHARS = " \t\n;&|<>()$`\"'*?[\\"
SHELL_CHARS_PATTERN = r"""  *[[:space:]\;\&\|\<\>\(\)\$\`\"\'\*\?\[\\]*)"""


@dataclass(frozen=True)
class QserveRun:
    model: str  # the fp16 Hugging Face folder, as the Linux host sees it
    model_name: str  # DeepCompressor's --model-name: family and size, e.g. llama-8b
    group_size: int  # -1 or 128
    precision: str  # w4a8kv4 | w4a8kv8
    max_seqs: int
    gpu_advice: str

    @property
    def base(self) -> str:
        return self.model.rstrip("/").split("/")[-1]

    @property
    def suffix(self) -> str:
        """What checkpoint_converter.py appends to the model folder's name for its output folder."""
        return "-w4a8-per-channel" if self.group_size == -1 else f"-w4a8-g{self.group_size}"

    @property
    def groups(self) -> str:
        return msg("per-channel (group -1)") if self.group_size == -1 else msg("groups of {group}", group=self.group_size)


def quantize_argv(r: QserveRun) -> list[str]:
    return ["python", "-m", "deepcompressor.app.llm.ptq", f"configs/{RECIPES[r.group_size]}", "--model-name",
            "$MODEL_NAME", "--model-path", "$QUANTDESK_MODEL", "--save-model", "$FAKE_QUANT"]


def convert_argv(r: QserveRun) -> list[str]:
    return ["python", "checkpoint_converter.py", "--model-path", "$QUANTDESK_MODEL", "--quant-path", "$FAKE_QUANT",
            "--w-bit", "4", "--group-size", str(r.group_size), "--output-path", "$WORK_DIR", "--device", "cpu"]


def generate_argv(r: QserveRun) -> list[str]:
    return ["python", "qserve_e2e_generation.py", "--model", "$QSERVE_MODEL", "--quant-path", "$QSERVE_MODEL",
            "--precision", r.precision, "--group-size", str(r.group_size), "--ifb-mode", "--max-num-seqs",
            str(r.max_seqs)]


def _words(argv: list[str]) -> str:
    return " ".join(f'"{a}"' if a.startswith("$") else sh_quote(a) for a in argv)


def script(r: QserveRun) -> str:
    """qserve.sh: `bash qserve.sh [all|quantize|convert|generate]`, paths overridable from the environment."""
    lines = [
        "#!/usr/bin/env bash",
        f"# QuantDesk: QServe {r.precision.upper()}, {r.groups}, for {r.base}.",
        "# Written by QuantDesk, which did not run it. Run it on a Linux host with an NVIDIA GPU (compute",
        "# capability 8.0+), DeepCompressor and OmniServe installed; see README.md beside it.",
        "# Usage: bash qserve.sh [all|quantize|convert|generate] [more DeepCompressor flags]",
        "set -euo pipefail",
        f'if [ -z "${{QUANTDESK_MODEL:-}}" ]; then QUANTDESK_MODEL={sh_quote(r.model)}; fi',
        f': "${{DEEPCOMPRESSOR_DIR:?set DEEPCOMPRESSOR_DIR to your clone of {DEEPCOMPRESSOR}}}"',
        f': "${{OMNISERVE_DIR:?set OMNISERVE_DIR to your clone of {OMNISERVE}}}"',
        'WORK_DIR="${WORK_DIR:-$(cd "$(dirname "$0")" && pwd)/work}"',
        f'MODEL_NAME="${{MODEL_NAME:-{r.model_name}}}"  # DeepCompressor reads the family and size from it',
        'FAKE_QUANT="$WORK_DIR/fake-quant"  # model.pt and scale.pt from DeepCompressor',
        f'QSERVE_MODEL="${{QSERVE_MODEL:-$WORK_DIR/$(basename "$QUANTDESK_MODEL"){r.suffix}}}"  # the converter\'s name',
        'case "$QUANTDESK_MODEL$WORK_DIR" in',
        SHELL_CHARS_PATTERN,
        '    echo "checkpoint_converter.py passes paths to the shell unquoted: use QUANTDESK_MODEL and WORK_DIR without'
        ' spaces or shell characters" >&2',
        "    exit 2 ;;",
        "esac",
        'mkdir -p "$WORK_DIR"',
        "",
        "quantize() (  # DeepCompressor: QoQ fake quantization, calibrated on pileval",
        '  cd "$DEEPCOMPRESSOR_DIR/examples/llm"',
        "  " + _words(quantize_argv(r)) + ' "$@"',
        ")",
        "convert() (  # OmniServe: real-quantize and pack into QServe's checkpoint",
        '  cd "$OMNISERVE_DIR/scripts/ckpt_converter"',
        "  " + _words(convert_argv(r)),
        ")",
        "generate() (  # OmniServe: batched generation with in-flight batching",
        '  cd "$OMNISERVE_DIR"',
        "  " + _words(generate_argv(r)),
        ")",
        "",
        'step="${1:-all}"',
        "if [ $# -gt 0 ]; then shift; fi  # what follows the step goes to DeepCompressor",
        'case "$step" in',
        '  quantize) quantize "$@" ;;',
        "  convert) convert ;;",
        "  generate) generate ;;",
        '  all) quantize "$@" && convert && generate ;;',
        '  *) echo "usage: bash qserve.sh [all|quantize|convert|generate]" >&2; exit 2 ;;',
        "esac",
    ]
    return "\n".join(lines) + "\n"


def readme(r: QserveRun, source: str, notes: list[str]) -> str:
    """README.md: what the script does, what the host needs, and that nothing here was run."""
    g = str(r.group_size)
    lines = [
        f"# QServe {r.precision.upper()} for {source}", "",
        "**QuantDesk wrote these commands and did not run them.** Nothing in this folder has been quantized, "
        "converted or served: run `qserve.sh` on a machine that meets the prerequisites below.", "",
        "## Prerequisites", "",
        "- Linux (or WSL2 with CUDA). QServe and OmniServe build CUDA kernels and do not run on Windows itself.",
        "- An NVIDIA CUDA GPU with compute capability 8.0 or newer (A100, H100, L40S, RTX 30/40 series); "
        "the quantization step needs one too.",
        "- FlashAttention-2 in OmniServe's environment (`pip install flash-attn --no-build-isolation`; check with "
        "`python -c \"import flash_attn\"`).",
        f"- DeepCompressor ({DEEPCOMPRESSOR}) installed in its own environment, and OmniServe ({OMNISERVE}) with "
        "its kernels built (`cd kernels && python setup.py install`). Activate the right one before each step.",
        "- Network access to the Hugging Face Hub, or its cache: DeepCompressor calibrates on `pileval` "
        "(mit-han-lab/pile-val-backup) and evaluates on wikitext; `qserve_e2e_generation.py` samples its prompts "
        "from allenai/WildChat.",
        "- Paths without spaces: `checkpoint_converter.py` hands paths to the shell unquoted.", "",
        "## Group size", "",
        f"This script uses {r.groups}. {r.gpu_advice}",
        "QServe takes `--group-size -1` (per channel) or `128` only, and the serving flag must match the checkpoint.",
        "", "## Steps", "",
        "```bash",
        "export DEEPCOMPRESSOR_DIR=/path/to/deepcompressor OMNISERVE_DIR=/path/to/OmniServe",
        "bash qserve.sh quantize   # in DeepCompressor's environment",
        "bash qserve.sh convert    # in OmniServe's environment",
        "bash qserve.sh generate   # in OmniServe's environment",
        "```", "",
        "`QUANTDESK_MODEL` (the fp16 model), `WORK_DIR` (default: `work/` beside the script), `MODEL_NAME` "
        f"(DeepCompressor's family-size name, here `{r.model_name}`; e.g. `llama-3-8b`) and `QSERVE_MODEL` (the "
        "converted checkpoint) can be set to override them.",
        "", "What each step runs:", "",
        "1. DeepCompressor, QoQ (W4A8KV4 fake quantization; writes `model.pt` and `scale.pt`), from "
        "`$DEEPCOMPRESSOR_DIR/examples/llm`:", "",
        "   ```bash", "   " + " ".join(quantize_argv(r)), "   ```", "",
        "   DeepCompressor's `examples/llm/scripts/qoq.sh` lists tuned smoothing flags for some models "
        "(`--smooth-proj-alpha`, `--smooth-proj-beta`, ...); if yours is there, add them after the step: "
        "`bash qserve.sh quantize --smooth-proj-alpha 0.1 --smooth-proj-beta 0.9`.", "",
        "2. OmniServe's checkpoint converter (real 4-bit weights in QServe's layout), from "
        "`$OMNISERVE_DIR/scripts/ckpt_converter`:", "",
        "   ```bash", "   " + " ".join(convert_argv(r)), "   ```", "",
        f"   It writes `$WORK_DIR/{r.base}{r.suffix}` (pytorch_model.bin and the model's JSON files). OmniServe "
        "documents this converter with DeepCompressor's `lmquant-v0.0.0-deprecated` branch; if it cannot find a "
        "scale tensor in a newer DeepCompressor's `scale.pt`, DeepCompressor's own converter writes the same "
        f"format: `python -m deepcompressor.backend.qserve.convert --model-path \"$QUANTDESK_MODEL\" --quant-path "
        f"\"$FAKE_QUANT\" --weight-bits 4 --group-size {g} --output-root \"$WORK_DIR\"`; it names its folder "
        f"`{r.base}-w4a8-{'gchn' if r.group_size == -1 else 'g' + g}`, so set `QSERVE_MODEL` to that folder before "
        "`generate`.", "",
        "3. OmniServe, batched generation with in-flight batching, from `$OMNISERVE_DIR`:", "",
        "   ```bash", "   " + " ".join(generate_argv(r)), "   ```", "",
        f"   `--precision {r.precision}` sets the KV cache ({r.precision[-3:].upper()}); the 4-bit weights are the "
        "same for w4a8kv4 and w4a8kv8. `--max-num-seqs` is also the number of prompts it samples.",
    ]
    if notes:
        lines += ["", "## Notes from QuantDesk's checks", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"
