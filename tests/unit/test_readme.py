"""The README's two commands stay true: CI runs exactly the README's test command."""
import re

from tests.conftest import ROOT


def _bash_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, re.S)]


def test_readme_starts_with_run_and_test_commands():
    blocks = _bash_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    run, test = blocks[0], blocks[1]
    assert run.endswith(".venv/bin/quantdesk")
    assert "pytest" in test and "QT_QPA_PLATFORM=offscreen" in test


def test_ci_runs_the_readme_test_command():
    test = _bash_blocks((ROOT / "README.md").read_text(encoding="utf-8"))[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()
