"""`quantdesk doctor` on this very machine: whatever it finds, valid JSON and no crash."""
import json
import os
import sys

from tests.conftest import run_python


def test_real_doctor_json_on_this_machine():
    """This machine (and CI): Linux, no GPU, the ML stack installed, offline (conftest sets HF_HUB_OFFLINE)."""
    proc = run_python("import sys; from app.cli import main; sys.exit(main(['doctor', '--json']))", timeout=180)
    doc = json.loads(proc.stdout)
    failed = [c["id"] for c in doc["checks"] if c["status"] == "fail"]
    assert proc.returncode == (1 if failed else 0), proc.stderr
    ids = [c["id"] for c in doc["checks"]]
    assert {"python", "nvidia", "torch", "ninja", "autoawq", "disk", "hub"} <= set(ids)
    for c in doc["checks"]:
        assert set(c) == {"id", "title", "status", "summary", "details", "fix"}
        assert c["status"] in ("ok", "warn", "fail", "skip")
    assert doc["platform"]["python"] == ".".join(map(str, sys.version_info[:3]))
    by_id = {c["id"]: c for c in doc["checks"]}
    assert by_id["python"]["status"] == "ok"
    assert by_id["transformers"]["summary"].startswith("transformers 5.17")  # the probe ran in a child process
    assert by_id["autoawq"]["status"] == "ok" and by_id["hub"]["summary"].startswith("offline mode")
    if not os.environ.get("QUANTDESK_EXPECT_GPU"):
        assert by_id["nvidia"]["status"] in ("warn", "fail") and by_id["flash_attn"]["status"] == "skip"


def test_doctor_text_and_unknown_fix(capsys):
    from app.cli import main

    assert main(["doctor", "--fix", "nonsense"]) == 2
    assert "no check named 'nonsense'" in capsys.readouterr().err
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "Python" in out and " ok, " in out


def test_doctor_fix_offers_hand_fixes_as_text(capsys, monkeypatch):
    from app import cmd_doctor
    from app.cli import main
    from services.envcheck.runner import run_checks
    from tests.fakes.probe import healthy_windows

    def on_fake_windows(ctx, only, **kw):
        return run_checks(healthy_windows(registry={}), ctx, only=only)

    monkeypatch.setattr(cmd_doctor, "run_checks", on_fake_windows)
    assert main(["doctor", "--fix", "long_paths"]) == 2
    assert "LongPathsEnabled" in capsys.readouterr().err


def test_doctor_exits_1_when_a_check_fails(capsys, monkeypatch):
    from app import cmd_doctor
    from app.cli import main
    from services.envcheck.runner import run_checks
    from tests.fakes.probe import healthy_windows

    def no_compiler(ctx, only=None, **kw):  # a fake Windows machine with nothing on PATH (no ninja)
        return run_checks(healthy_windows(path_cmds={}), ctx, only=only)

    monkeypatch.setattr(cmd_doctor, "run_checks", no_compiler)
    assert main(["doctor", "--json"]) == 1
    assert any(c["status"] == "fail" for c in json.loads(capsys.readouterr().out)["checks"])
