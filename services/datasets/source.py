"""Turn a SOURCE string into texts: a dataset name, a saved dataset folder, a local file or folder."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from services.datasets.catalog import CATALOG
from services.datasets.errors import DatasetError
from services.datasets.readers import ChatRenderer, ReadInfo, plain_chat, read_path
from services.messages import msg
from services.progress import Cancelled, ProgressFn, never_cancelled, no_progress


def iter_texts(source: str, info: ReadInfo, field: str | None = None, split: str = "blocks",
               chat: ChatRenderer = plain_chat) -> Iterator[str]:
    name = source.strip()
    if name.lower() in CATALOG:
        from services.datasets.hub import iter_named

        return iter_named(name.lower(), info)
    path = Path(name).expanduser()
    if path.is_dir():
        from services.datasets.hub import is_saved_dataset, iter_saved

        if is_saved_dataset(path):
            return iter_saved(path, info, field)
    return read_path(path, info, field, split, chat)


def collect_texts(source: str, field: str | None = None, split: str = "blocks", min_chars: int = 1,
                  max_texts: int = 50_000, max_chars: int = 64_000_000, chat: ChatRenderer = plain_chat,
                  progress: ProgressFn = no_progress, cancelled: Callable[[], bool] = never_cancelled,
                  ) -> tuple[list[str], ReadInfo, bool]:
    """Read texts until the source ends or a limit is reached: (texts, info, stopped_at_limit).

    Blank texts and texts shorter than `min_chars` are dropped. Raises DatasetError when nothing usable is left.
    """
    info = ReadInfo()
    texts: list[str] = []
    chars = 0
    seen = 0
    limited = False
    for text in iter_texts(source, info, field, split, chat):
        seen += 1
        if seen % 1000 == 0:
            if cancelled():
                raise Cancelled()
            progress(len(texts), max_texts, msg("read {count:,} texts", count=len(texts)))
        if not text.strip() or len(text) < min_chars:
            continue
        texts.append(text)
        chars += len(text)
        if len(texts) >= max_texts or chars >= max_chars:
            limited = True
            break
    if not texts:
        what = source if len(source) < 80 else msg("the source")
        if seen == 0:
            raise DatasetError(msg("{source} holds no text (blank or only whitespace): pick a file with calibration text",
                                   source=what))
        if min_chars > 1:
            raise DatasetError(msg("{source}: all {count:,} texts are blank or shorter than {min_chars} characters; "
                                   "lower the minimum length", source=what, count=seen, min_chars=min_chars))
        raise DatasetError(msg("{source} holds only whitespace: pick a file with calibration text", source=what))
    return texts, info, limited
