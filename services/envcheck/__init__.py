"""The environment doctor: checks of the machine, each a function of an injected Probe."""
from services.envcheck.model import CheckResult, Fix, Report
from services.envcheck.runner import run_checks

__all__ = ["CheckResult", "Fix", "Report", "run_checks"]
