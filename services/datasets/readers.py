"""Read texts from local files lazily: .txt, .jsonl/.json, .csv, .parquet, and folders of them.

Every reader is a generator, so a 1 GB file is read only as far as the caller needs.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from services.datasets.encoding import open_text
from services.datasets.errors import DatasetError
from services.messages import msg

SUPPORTED = (".txt", ".md", ".jsonl", ".json", ".csv", ".parquet")
TEXT_FIELDS = ("text", "content", "article", "document", "body", "sentence", "question", "prompt", "messages")

ChatRenderer = Callable[[list], str]


@dataclass
class ReadInfo:
    """What the reader found out along the way (shown in the preview)."""

    encoding: str = ""
    field: str = ""
    files: int = 0


def plain_chat(messages: list) -> str:
    """Render a chat without a tokenizer: one "role: content" line per message."""
    return "\n".join(f"{m.get('role', '')}: {m.get('content', '')}" for m in messages if isinstance(m, dict))


def _read_txt(path: Path, info: ReadInfo, split: str) -> Iterator[str]:
    f, info.encoding = open_text(path)
    with f:
        try:
            if split == "lines":
                for line in f:
                    yield line.rstrip("\r\n")
                return
            block: list[str] = []
            for line in f:
                if line.strip():
                    block.append(line.rstrip("\r\n"))
                elif block:
                    yield "\n".join(block)
                    block = []
            if block:
                yield "\n".join(block)
        except UnicodeDecodeError as exc:
            raise DatasetError(msg("{name} is not valid {encoding} further in ({reason}); "
                                   "save it in one encoding (UTF-8)", name=path.name, encoding=info.encoding,
                                   reason=exc.reason)) from exc


def _pick_field(record: dict, field: str | None, path: Path) -> str:
    if field:
        if field not in record:
            raise DatasetError(msg("{name} has no field {field!r}; fields: {fields}", name=path.name, field=field,
                                   fields=", ".join(map(str, record)) or msg("none")))
        return field
    for name in TEXT_FIELDS:
        if name in record:
            return name
    raise DatasetError(msg("{name}: no text field found; choose one with --field from: {fields}", name=path.name,
                           fields=", ".join(map(str, record))))


def _value_text(value, chat: ChatRenderer) -> str:
    if isinstance(value, list):  # chat-style messages
        return chat(value)
    return "" if value is None else str(value)


def _records_jsonl(path: Path, info: ReadInfo) -> Iterator[dict]:
    f, info.encoding = open_text(path)
    with f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError as exc:
                raise DatasetError(msg("{name} line {line} is not valid JSON ({reason})", name=path.name, line=n,
                                       reason=exc)) from exc
            if isinstance(rec, dict):
                yield rec
            else:
                yield {"text": rec}


def _records_json(path: Path, info: ReadInfo) -> Iterator[dict]:
    f, info.encoding = open_text(path)
    with f:
        try:
            doc = json.load(f)
        except ValueError as exc:
            raise DatasetError(msg("{name} is not valid JSON ({reason}); for one record a line use .jsonl",
                                   name=path.name, reason=exc)) from exc
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list)]
        doc = lists[0] if len(lists) == 1 else [doc]
    if not isinstance(doc, list):
        raise DatasetError(msg("{name}: expected a list of records", name=path.name))
    for rec in doc:
        yield rec if isinstance(rec, dict) else {"text": rec}


def _records_csv(path: Path, info: ReadInfo) -> Iterator[dict]:
    f, info.encoding = open_text(path)
    with f:
        try:
            yield from csv.DictReader(f)
        except csv.Error as exc:
            raise DatasetError(msg("{name} is not valid CSV ({reason})", name=path.name, reason=exc)) from exc


def _read_parquet(path: Path, info: ReadInfo, field: str | None) -> Iterator[str]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        import sys

        if getattr(sys, "frozen", False):
            raise DatasetError(msg("the installed app does not read .parquet: convert {name} to .jsonl or .txt "
                                   "(one sample a line)", name=path.name)) from exc
        raise DatasetError(msg("reading .parquet needs pyarrow: pip install pyarrow")) from exc
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:
        raise DatasetError(msg("{name} is not a readable Parquet file ({reason})", name=path.name, reason=exc)) from exc
    schema = pf.schema_arrow
    names = schema.names
    if field:
        if field not in names:
            raise DatasetError(msg("{name} has no column {field!r}; columns: {columns}", name=path.name, field=field,
                                   columns=", ".join(names)))
    else:
        import pyarrow as pa

        text_cols = [n for n in names if pa.types.is_string(schema.field(n).type) or pa.types.is_large_string(schema.field(n).type)]
        preferred = [n for n in TEXT_FIELDS if n in text_cols]
        if not text_cols:
            raise DatasetError(msg("{name} has no text columns (columns: {columns}); pick a Parquet file with text",
                                   name=path.name, columns=", ".join(names)))
        field = (preferred or text_cols)[0]
    info.field = field
    info.encoding = "parquet"
    for batch in pf.iter_batches(columns=[field], batch_size=1024):
        for value in batch.column(0).to_pylist():
            if value is not None:
                yield str(value)


def read_file(path: Path, info: ReadInfo, field: str | None = None, split: str = "blocks",
              chat: ChatRenderer = plain_chat) -> Iterator[str]:
    """Texts of one file (lazily)."""
    ext = path.suffix.lower()
    info.files += 1
    if ext in (".txt", ".md"):
        yield from _read_txt(path, info, split)
        return
    if ext == ".parquet":
        yield from _read_parquet(path, info, field)
        return
    records = {".jsonl": _records_jsonl, ".json": _records_json, ".csv": _records_csv}.get(ext)
    if records is None:
        raise DatasetError(msg("{name}: unsupported file type {ext}; use {types}", name=path.name,
                               ext=ext or msg("(none)"), types=", ".join(SUPPORTED)))
    chosen = None
    for rec in records(path, info):
        if chosen is None:
            chosen = info.field = _pick_field(rec, field, path)
        if chosen not in rec:
            continue
        yield _value_text(rec[chosen], chat)


def supported_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED)


def read_path(path: Path, info: ReadInfo, field: str | None = None, split: str = "blocks",
              chat: ChatRenderer = plain_chat) -> Iterator[str]:
    """Texts of a file or of every supported file in a folder."""
    if path.is_dir():
        files = supported_files(path)
        if not files:
            raise DatasetError(msg("{path} has no {types} files: pick a folder with calibration text", path=path,
                                   types=", ".join(SUPPORTED)))
        for f in files:
            yield from read_file(f, info, field, split, chat)
        return
    if not path.exists():
        raise DatasetError(msg("{path} does not exist: check the path, or use a dataset name "
                               "(pileval, wikitext2, c4, ptb, cnn_dailymail)", path=path))
    yield from read_file(path, info, field, split, chat)
