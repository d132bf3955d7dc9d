import json

import pytest

from app.cli import main
from tests.conftest import run_python


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("quantdesk ")


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for cmd in ("gui", "doctor", "datasets", "quantize", "eval", "plan", "export", "jobs", "logs"):
        assert cmd in out


def test_unknown_panel_is_a_usage_error(capsys):
    assert main(["gui", "--panel", "nope", "--screenshot", "x.png"]) == 2
    assert "choose one of: overview, environment" in capsys.readouterr().err


def test_a_bad_screenshot_size_is_a_usage_error(capsys):
    for bad in ("1024by700", "1024x7²0", "0x0", "99999x99999", "1024x-700"):
        assert main(["gui", "--size", bad, "--screenshot", "x.png"]) == 2
        assert "--size takes WIDTHxHEIGHT in pixels, from 640x480 to 7680x4320" in capsys.readouterr().err


def test_headless_subcommands_never_import_qt():
    code = (
        "import sys, json; from app.cli import main\n"
        "for argv in (['plan', '--model', 'nowhere'], ['jobs', 'list'], ['doctor', '--json']):\n"
        "    try: main(argv)\n"
        "    except SystemExit: pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph'))))"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_run_module_mode_runs_the_job_runner(tmp_path):
    """What a frozen build's runner mode does: `quantdesk --run-module services.jobs.runner SPEC`."""
    from tests.conftest import run_python

    spec = tmp_path / "s.json"
    spec.write_text('{"kind": "selftest", "model": "-", "params": {"steps": 2, "step_s": 0}, "id": "t1"}')
    proc = run_python("import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))",
                      "--run-module", "services.jobs.runner", str(spec))
    assert proc.returncode == 0, proc.stderr
    assert '"type": "result"' in proc.stdout.splitlines()[-1]
