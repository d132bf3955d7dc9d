"""The job protocol's events, typed and versioned, parsed in one place.

The runner writes them one JSON object per line; the manager parses each line once with
`parse_event`; the store keeps `to_dict(event)`; panels and the CLI use the dataclasses.
A newer runner's extra fields are ignored and an unknown event type becomes a `Log` line.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, TypedDict, Union

VERSION = 1

# Runner exit statuses
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_CANCELLED = 0, 1, 2, 3


@dataclass(frozen=True)
class Stage:
    TYPE: ClassVar[str] = "stage"
    name: str
    message: str = ""


@dataclass(frozen=True)
class Progress:
    TYPE: ClassVar[str] = "progress"
    done: int
    total: int
    unit: str = ""
    message: str = ""
    eta_s: float | None = None


@dataclass(frozen=True)
class Log:
    TYPE: ClassVar[str] = "log"
    message: str
    level: str = "INFO"


@dataclass(frozen=True)
class Metric:
    TYPE: ClassVar[str] = "metric"
    name: str
    value: float
    labels: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Artifact:
    TYPE: ClassVar[str] = "artifact"
    path: str
    kind: str


@dataclass(frozen=True)
class Result:
    TYPE: ClassVar[str] = "result"
    ok: bool
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Error:
    TYPE: ClassVar[str] = "error"
    message: str
    hint: str = ""
    traceback: str = ""
    bad_input: bool = False  # the input was wrong (exit status 2), not the job

    def text(self) -> str:
        return self.message + (f" — {self.hint}" if self.hint else "")


@dataclass(frozen=True)
class Cancelled:
    TYPE: ClassVar[str] = "cancelled"
    reason: str = ""


@dataclass(frozen=True)
class Status:
    """Made by the manager, not the runner: queued, running (with the pid), or a final status."""
    TYPE: ClassVar[str] = "status"
    status: str
    error: str | None = None
    pid: int | None = None


Event = Union[Stage, Progress, Log, Metric, Artifact, Result, Error, Cancelled, Status]
TYPES: dict[str, type] = {c.TYPE: c for c in (Stage, Progress, Log, Metric, Artifact, Result, Error, Cancelled, Status)}


def to_dict(event: Event) -> dict[str, Any]:
    return {"type": event.TYPE, "v": VERSION, **asdict(event)}


def to_line(event: Event) -> str:
    return json.dumps(to_dict(event), ensure_ascii=False, default=str)


def parse_event(data: Any) -> Event:
    """An event from a decoded JSON object (a stored one or a runner line); never raises."""
    if not isinstance(data, dict):
        return Log(message=str(data))
    cls = TYPES.get(str(data.get("type")))
    if cls is None:
        return Log(message=json.dumps(data, ensure_ascii=False, default=str))
    names = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError:  # a required field is missing
        return Log(message=json.dumps(data, ensure_ascii=False, default=str), level="WARNING")


def parse_line(line: str) -> Event:
    """A runner stdout line: JSON events are parsed, anything else is a log line."""
    try:
        return parse_event(json.loads(line))
    except ValueError:
        return Log(message=line)


class QuantizeSummary(TypedDict, total=False):
    out: str
    format: str
    input_bytes: int
    output_bytes: int
    ratio: float | None
    duration_s: float
    quantize_s: float
    device: str
    check: dict[str, Any]
    calibration_token_hash: str | None


class EvalVariant(TypedDict, total=False):
    name: str
    model: str
    kv: str
    baseline: bool
    perplexity: float
    tokens: int
    windows: int
    seconds: float
    delta_pct: float | None
    agreement: float | None
    precision: str  # a simulated precision of the job's model (w4a8kv4, ...)
    group_size: int
    delta_w4a16_pct: float | None
    agreement_w4a16: float | None


class EvalSummary(TypedDict, total=False):
    variants: list[EvalVariant]
    answers: list[dict[str, Any]]
    tokens: int
    text: str
    context: int
    stride: int
    device: str
