"""JobSpec: everything needed to run (or re-run) a job, as JSON. Its paths are absolute."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from services.jobs.kinds import KINDS, path_values
from services.jobs.outputs import partial_path
from services.messages import msg


def _is_absolute(path: str) -> bool:
    return PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute() or "://" in path


@dataclass
class JobSpec:
    kind: str
    model: str
    out: str | None = None
    params: dict = field(default_factory=dict)
    id: str = field(default_factory=lambda: time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6])
    created: float = field(default_factory=time.time)
    group: str | None = None  # a job group's id (e.g. one "compare methods" run)
    executor: str = "local"  # where it runs: "local", or "ray:<cluster>" (then its paths are the cluster's)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, known_kinds_only: bool = True) -> JobSpec:
        """Parse a spec; a kind this version does not know raises unless `known_kinds_only` is False."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(msg("a job spec must be a JSON object"))
        if known_kinds_only and data.get("kind") not in KINDS:
            raise ValueError(msg("unknown job kind {kind!r}; kinds: {kinds}", kind=data.get("kind"), kinds=", ".join(KINDS)))
        return cls(**{k: data[k] for k in ("kind", "model", "out", "params", "id", "created", "group",
                                                    "executor") if k in data})

    def rerun(self) -> JobSpec:
        """The same settings under a new id, outside any group."""
        return JobSpec(kind=self.kind, model=self.model, out=self.out, params=json.loads(json.dumps(self.params)),
                       executor=self.executor)

    @property
    def remote(self) -> bool:
        return self.executor != "local"

    @property
    def out_kind(self) -> str:
        k = KINDS.get(self.kind)
        return k.out_kind if k else "folder"

    def relative_paths(self) -> list[str]:
        """The spec's paths that are not absolute, as `name=value` (the runner refuses these)."""
        items = [("model", self.model)] if self.model and self.model != "-" else []
        items += [("out", self.out)] if self.out else []
        items += path_values(self.kind, self.params)
        return [f"{name}={value}" for name, value in items if not _is_absolute(value)]


def partial_dir(out: str | Path) -> Path:
    """Where a job builds its output before it is moved to `out` on success."""
    return partial_path(out)
