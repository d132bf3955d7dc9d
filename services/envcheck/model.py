"""What a check returns: a status, a one-line summary, details, and the fix that applies."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

STATUSES = ("ok", "warn", "fail", "skip")


@dataclass(frozen=True)
class Fix:
    """How to fix a failing check.

    kind: "command" (a copyable command line), "env" (variables to set), "action" (something
    QuantDesk does: see services/envcheck/actions.py), "job" (a long install the workbench starts as a
    job: `action` is its kind, see job_for_fix) or "info" (advice only).
    """

    kind: str
    label: str
    command: str = ""
    env: dict[str, str] = field(default_factory=dict)
    action: str = ""  # e.g. "capture_msvc", "pip_install"
    args: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: str
    summary: str
    details: str = ""
    fix: Fix | None = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Report:
    checks: list[CheckResult]
    platform: dict

    def to_dict(self) -> dict:
        return {"checks": [c.to_dict() for c in self.checks], "platform": self.platform}

    def by_id(self, check_id: str) -> CheckResult:
        return next(c for c in self.checks if c.id == check_id)

    def counts(self) -> dict[str, int]:
        return {s: sum(c.status == s for c in self.checks) for s in STATUSES}

    def to_markdown(self) -> str:
        icon = {"ok": "✅", "warn": "⚠️", "fail": "❌", "skip": "➖"}
        lines = ["# QuantDesk environment report", ""]
        lines += [f"- **{k}**: {v}" for k, v in self.platform.items()]
        lines += ["", "| | Check | Result |", "|---|---|---|"]
        for c in self.checks:
            lines.append(f"| {icon[c.status]} | {c.title} | {c.summary.replace('|', '/')} |")
        for c in self.checks:
            if c.status in ("warn", "fail") and c.fix:
                lines += ["", f"## {c.title}", "", c.details or c.summary, "", f"Fix: {c.fix.label}"]
                if c.fix.command:
                    lines += ["", "```", c.fix.command, "```"]
                for k, v in c.fix.env.items():
                    lines.append(f"- set `{k}={v}`")
        return "\n".join(lines) + "\n"
