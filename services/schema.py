"""A typed setting that the CLI turns into a flag and a panel into a field (backends and targets declare them)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.messages import msg


@dataclass(frozen=True)
class Setting:
    """One setting: the CLI flag `--name-with-dashes` and a panel field are built from it."""
    name: str
    type: type
    default: Any
    help: str
    choices: tuple = ()
    methods: tuple[str, ...] = ()  # the methods (or targets) it applies to (empty: all)
    bounds: tuple[float, float] | None = None  # the range a panel's field offers

    def applies(self, method: str) -> bool:
        return not self.methods or method in self.methods

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def coerce(self, value: Any) -> Any:
        """`value` as this setting's type; ValueError naming the flag and what it takes."""
        if value is None:
            return None
        try:
            if self.type is bool:
                if isinstance(value, str):
                    if value.lower() not in ("1", "0", "true", "false", "yes", "no"):
                        raise ValueError(value)
                    value = value.lower() in ("1", "true", "yes")
                out: Any = bool(value)
            elif self.type is int:
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise ValueError(value)
                out = int(value)
            elif self.type is float:
                import math

                out = float(value)
                if not math.isfinite(out):
                    raise ValueError(value)
            else:
                out = str(value)
        except (TypeError, ValueError):
            kind = {int: msg("a whole number"), float: msg("a number"), bool: msg("true or false")}.get(
                self.type, "text")
            raise ValueError(msg("{flag} takes {kind}, not {value!r}", flag=self.flag, kind=kind, value=value)) from None
        if self.choices and out not in self.choices:
            raise ValueError(msg("{flag} must be one of {choices}, not {value!r}", flag=self.flag,
                                 choices=", ".join(map(str, self.choices)), value=out))
        return out
