"""The support bundle: planted secrets in every source it reads never reach the zip; the manifest
matches the zip; the size cap drops the oldest job logs first; the CLI refuses bad outputs."""
import json
import os
import subprocess
import sys
import zipfile

import pytest

from services.jobs.spec import JobSpec
from services.jobs.store import JobStore
from services.support.redact import Redactor
from tests.conftest import ROOT

SECRETS = {
    "hf": "hf_QwErTyUiOpAsDfGhJkLzXcVbNm123456",
    "sk": "sk-proj-9f8e7d6c5b4a39281716151413",
    "bearer": "eyJhbGciOiJIUzI1NiJ9.payload.signature",
    "url": "s3cr3t-Pass",
    "env": "value-of-a-secret-variable-42",
    "mail": "jane.doe@example-corp.com",
    "user": "jdoe_planted",
    "host": "WS-PLANTED-07",
    "quoted": "DQTOK-planted-1",
    "repr": "PYREPR-planted-2",
    "arg": "SPACEARG-planted-3",
    "num": "987654321",
    "camel": "CAMEL-planted-4",
}


def planted(extra: str = "") -> str:
    s = SECRETS
    return (f"token {s['hf']} key {s['sk']} Authorization: Bearer {s['bearer']} "
            f"pip install --index-url https://jdoe:{s['url']}@pypi.corp.example/simple DB_PASSWORD={s['env']} "
            f"mail {s['mail']} path /home/{s['user']}/models C:\\Users\\{s['user']}\\models on {s['host']} "
            f"HF_TOKEN=\"{s['quoted']}\" {{'AWS_SECRET_ACCESS_KEY': '{s['repr']}'}} login --token {s['arg']} "
            f"/mnt/home/{s['user']}/x {extra}\n")


@pytest.fixture
def seeded_home(tmp_path):
    home = tmp_path / "home"
    for d in ("config", "data/jobs", "logs"):
        (home / d).mkdir(parents=True)
    (home / "logs" / "quantdesk.log").write_text(planted("app log"), encoding="utf-8")
    (home / "logs" / "crash.log").write_text(planted("crash"), encoding="utf-8")
    (home / "config" / "settings.json").write_text(json.dumps({"language": "en", "hub_mirror": f"https://u:{SECRETS['url']}@m.example",
                                                               "note": planted()}), encoding="utf-8")
    (home / "config" / "job_env.json").write_text(json.dumps({"HF_TOKEN": SECRETS["hf"], "MY_API_KEY": SECRETS["env"],
                                                              "PATH": f"/home/{SECRETS['user']}/bin"}),
                                                  encoding="utf-8")
    (home / "config" / "msvc_env.json").write_text(json.dumps({"set": {"MY_TOKEN": SECRETS["env"]},
                                                               "api_key": int(SECRETS["num"]),
                                                               "hfToken": SECRETS["camel"],
                                                               "env": {"CLIENT_SECRET": SECRETS["env"],
                                                                        "INCLUDE": f"C:\\Users\\{SECRETS['user']}\\sdk"}}),
                                                   encoding="utf-8")
    (home / "config" / "clusters.json").write_text(json.dumps({"clusters": [{
        "name": "lab", "address": "http://10.0.0.5:8265", "headers": {"X-Cluster-Auth": SECRETS["quoted"]},
        "env": {"WANDB": SECRETS["arg"]}}]}), encoding="utf-8")
    store = JobStore(home / "data" / "jobs.db")
    for i in range(3):
        spec = JobSpec(kind="selftest", model="-", params={"note": planted(f"spec {i}")}, created=1000.0 + i)
        log = home / "data" / "jobs" / f"{spec.id}.log"
        log.write_text(planted(f"job log {i}") + ("x" * 400_000 if i == 0 else ""), encoding="utf-8")
        store.add(spec, log_path=log)
        store.add_event(spec.id, {"type": "log", "message": planted(f"event {i}")})
        store.set_status(spec.id, "failed", error=planted("error"))
    store.close()
    return home


def bundle_cli(home, *args):
    env = {**os.environ, "QUANTDESK_HOME": str(home), "USER": SECRETS["user"], "LOGNAME": SECRETS["user"]}
    return subprocess.run([sys.executable, "-m", "app", "logs", "export", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=180, env=env)


def test_no_planted_secret_reaches_the_zip(seeded_home, tmp_path, monkeypatch):
    from services.support.bundle import plan_bundle, write_bundle

    monkeypatch.setenv("QUANTDESK_HOME", str(seeded_home))
    plan, red = plan_bundle(doctor=True, redactor=Redactor(user=SECRETS["user"], host=SECRETS["host"]))
    out = write_bundle(tmp_path / "支持 bundle.zip", plan, red)
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        texts = {n: z.read(n).decode("utf-8") for n in names}
    leaked = [(n, k) for n, t in texts.items() for k, v in SECRETS.items() if v.lower() in t.lower()]
    assert not leaked
    manifest = json.loads(texts["manifest.json"])
    assert sorted(f["name"] for f in manifest["files"]) == sorted(n for n in names if n != "manifest.json")
    kinds = {f["kind"] for f in manifest["files"]}
    assert {"app-log", "crash-log", "job-spec", "job-events", "job-log", "settings", "environment", "doctor",
            "versions", "system"} <= kinds
    for kind in ("hugging face token", "api key", "bearer token", "url password", "secret variable", "e-mail",
                 "user name", "machine name"):
        assert manifest["redacted"].get(kind, 0) > 0, kind
    env = json.loads(texts["config/job_env.json"])
    assert env["HF_TOKEN"] == "[REDACTED]" and env["PATH"] == "/home/<user>/bin"  # names kept, values gone
    assert "doctor/report.md" in names and "pip" in texts["system/versions.txt"].lower()
    clusters = json.loads(texts["config/clusters.json"])["clusters"][0]
    assert clusters["address"] == "http://10.0.0.5:8265" and clusters["headers"] == {"X-Cluster-Auth": "[REDACTED]"}


def test_the_size_cap_drops_the_oldest_job_logs_first(seeded_home, tmp_path, monkeypatch):
    from services.support.bundle import plan_bundle

    monkeypatch.setenv("QUANTDESK_HOME", str(seeded_home))
    plan, _ = plan_bundle(doctor=False, cap=300_000)
    assert len(plan.dropped) == 1 and plan.dropped[0].endswith("job.log")
    oldest = JobStore(seeded_home / "data" / "jobs.db").list()[-1]
    assert plan.dropped[0] == f"jobs/{oldest.id}/job.log"


def test_the_cli_writes_the_zip_and_refuses_bad_outputs(seeded_home, tmp_path):
    out = tmp_path / "bundle.zip"
    proc = bundle_cli(seeded_home, "--out", str(out), "--no-doctor", "--jobs", "2", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["out"] == str(out) and summary["redacted"]
    with zipfile.ZipFile(out) as z:
        assert len([n for n in z.namelist() if n.endswith("record.json")]) == 2
    again = bundle_cli(seeded_home, "--out", str(out), "--no-doctor")
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert bundle_cli(seeded_home, "--out", str(tmp_path / "b.tar"), "--no-doctor").returncode == 2
    assert bundle_cli(seeded_home, "--out", str(tmp_path), "--no-doctor").returncode == 2
    assert bundle_cli(seeded_home, "--out", str(tmp_path / "missing" / "b.zip"), "--no-doctor").returncode == 2
    picked = bundle_cli(seeded_home, "--out", str(tmp_path / "one.zip"), "--no-doctor", "--job", "nope")
    assert picked.returncode == 2 and "no job 'nope'" in picked.stderr and not (tmp_path / "one.zip").exists()
    assert bundle_cli(seeded_home, "--out", str(tmp_path / "inf.zip"), "--max-mb", "inf").returncode == 2


def test_redactor_keeps_what_support_needs():
    r = Redactor(user="alice", host="ws-1")
    text = '"pad_token": "<pad>", tokenizers==0.23.3, /tmp/home/data/jobs, "max_kv": 2048, KV=int8'
    assert r.text(text) == text and not r.counts
