"""JobSpec: everything needed to run (or re-run) a job, as JSON."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

KINDS = ("quantize", "eval", "export", "selftest")


@dataclass
class JobSpec:
    kind: str
    model: str
    out: str | None = None
    params: dict = field(default_factory=dict)
    id: str = field(default_factory=lambda: time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6])
    created: float = field(default_factory=time.time)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        data = json.loads(text)
        if data.get("kind") not in KINDS:
            raise ValueError(f"unknown job kind {data.get('kind')!r}; kinds: {', '.join(KINDS)}")
        return cls(**{k: data[k] for k in ("kind", "model", "out", "params", "id", "created") if k in data})

    def rerun(self) -> JobSpec:
        """The same settings under a new id."""
        return JobSpec(kind=self.kind, model=self.model, out=self.out, params=json.loads(json.dumps(self.params)))


def partial_dir(out: str | Path) -> Path:
    """Where a job builds its output before renaming it to `out` on success."""
    out = Path(out)
    return out.with_name(out.name + ".partial")
