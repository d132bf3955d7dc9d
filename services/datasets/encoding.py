"""Detect a text file's encoding: BOMs, UTF-8, UTF-16 without BOM, GB18030 (GBK); refuse binary."""
from __future__ import annotations

import codecs
from pathlib import Path

from services.datasets.errors import DatasetError
from services.messages import msg

SNIFF_BYTES = 1 << 20
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _valid(sample: bytes, encoding: str) -> bool:
    """Decodes cleanly, allowing a multi-byte character cut at the end of the sample."""
    dec = codecs.getincrementaldecoder(encoding)("strict")
    try:
        dec.decode(sample, final=False)
        return True
    except UnicodeDecodeError:
        return False


def _looks_utf16(sample: bytes) -> str | None:
    """UTF-16 without a BOM: mostly-ASCII text has a NUL in every other byte."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.3 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.3 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def detect_encoding(path: Path, sample: bytes | None = None) -> str:
    """Return a codec name for `path`, or raise DatasetError (empty, binary, unknown)."""
    if sample is None:
        with open(path, "rb") as f:
            sample = f.read(SNIFF_BYTES)
    if not sample:
        raise DatasetError(msg("{name} is empty: pick a file with text in it", name=path.name))
    for bom, name in BOMS:
        if sample.startswith(bom):
            return name
    utf16 = _looks_utf16(sample)
    if utf16 and _valid(sample, utf16):
        return utf16
    if b"\x00" in sample:
        raise DatasetError(msg("{name} looks binary (it contains NUL bytes): pick a text, JSON, CSV or Parquet file",
                               name=path.name))
    if _valid(sample, "utf-8"):
        return "utf-8"
    if _valid(sample, "gb18030"):
        return "gb18030"
    raise DatasetError(msg("{name}: unknown text encoding (not UTF-8, UTF-16 or GBK/GB18030); save it as UTF-8 and "
                           "try again", name=path.name))


def open_text(path: Path):
    """(file object in text mode, encoding name); decoding errors report the line, not a traceback."""
    enc = detect_encoding(path)
    return open(path, encoding=enc, newline=""), enc
