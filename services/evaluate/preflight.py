"""Check the models and settings of an evaluation before any weights load (no torch)."""
from __future__ import annotations

from pathlib import Path

from services.messages import msg
from services.modelfiles import check_weights
from services.modelinfo import ModelConfigError, read_config, shape_from_config


def check_models(folders: list[str], context: int) -> list[str]:
    """What is wrong with these model folders for an evaluation at `context` tokens; each says what to change."""
    errors: list[str] = []
    for folder in dict.fromkeys(folders):
        try:
            shape = shape_from_config(read_config(folder))
        except ModelConfigError as exc:
            errors.append(str(exc))
            continue
        errors += check_weights(Path(folder))[0]
        if shape.max_positions and context > int(shape.max_positions):
            errors.append(msg("--context {context} exceeds {model}'s max_position_embeddings {limit}: use --context "
                              "{limit} or less", context=context, model=Path(folder).name, limit=shape.max_positions))
    return errors


def check_precision(folder: str, precisions: list[str], group_sizes: list[int]) -> list[str]:
    """What stops simulating `precisions` on model `folder`: a quantized checkpoint, or a group size that does
    not divide its layers; each says what to change."""
    from services.checkpoint import checkpoint_format
    from services.evaluate.precision import shape_problems

    if not any(p != "fp16" for p in precisions):
        return []
    name = Path(folder).name
    try:
        fmt = checkpoint_format(folder)
        shape = shape_from_config(read_config(folder))
    except (ValueError, ModelConfigError) as exc:
        return [str(exc)]
    if fmt.quantized:
        return [msg("--precision simulates quantizing an unquantized model, and {model} is already quantized "
                    "({format}): give its fp16/bf16 source model as --model", model=name, format=fmt.describe())]
    return shape_problems(shape, precisions, group_sizes, name)
