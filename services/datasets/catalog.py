"""Named calibration datasets: where they live on the hub, which split and column hold the text."""
from __future__ import annotations

from dataclasses import dataclass

from services.messages import msg


@dataclass(frozen=True)
class NamedDataset:
    name: str
    hub_id: str
    config: str | None
    split: str
    column: str
    data_files: str | None = None
    modelscope: str | None = None  # an alternative on ModelScope, where one is known
    note: str = ""


CATALOG: dict[str, NamedDataset] = {d.name: d for d in (
    NamedDataset("pileval", "mit-han-lab/pile-val-backup", None, "validation", "text",
                 note=msg("AutoAWQ's default; needs zstandard")),
    NamedDataset("wikitext2", "Salesforce/wikitext", "wikitext-2-raw-v1", "train", "text",
                 modelscope="modelscope/wikitext (subset wikitext-2-raw-v1)"),
    NamedDataset("c4", "allenai/c4", None, "validation", "text", data_files="en/c4-validation.00000-of-00008.json.gz"),
    NamedDataset("ptb", "ptb-text-only/ptb_text_only", "penn_treebank", "train", "sentence",
                 note=msg("a loading-script dataset: recent `datasets` releases refuse it (LMDeploy's "
                          "'NoneType' object is not callable); use pileval or a local file")),
    NamedDataset("cnn_dailymail", "abisee/cnn_dailymail", "3.0.0", "train", "article"),
)}
