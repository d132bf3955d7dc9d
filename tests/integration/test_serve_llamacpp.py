"""The real thing: llama.cpp (llama-cpp-python compiled here) serves a GGUF export of a model with real
structure; its answers are what the same file gives through llama_cpp.Llama, agree with the source's
greedy answers, and the server is gone afterwards."""
import json
import os
import subprocess
import sys

import psutil
import pytest

from services.evaluate.answers import load_prompts
from services.serving.engines import state
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

DIRECT = r"""
import json, sys
from services.serving.llamacpp_server import _without_extra_bufts, cpu_has_amx, use_extra_bufts
if not use_extra_bufts("auto", cpu_has_amx()):
    _without_extra_bufts()
from llama_cpp import Llama
path, ctx, n, prompts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
llm = Llama(model_path=path, n_ctx=ctx, verbose=False, seed=0)
out = [llm.create_chat_completion([{"role": "user", "content": p}], temperature=0, top_k=1, repeat_penalty=1.0,
                                  max_tokens=n)["choices"][0]["message"]["content"] for p in prompts]
print(json.dumps(out))
"""


def cli(home, engines, *args, timeout=900):
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "QUANTDESK_HOME": str(home),
                                                "QUANTDESK_ENGINES": str(engines)})


def servers(folder) -> list[int]:
    """llama.cpp servers on a model under `folder` (other tests and users run theirs meanwhile)."""
    return [p.pid for p in psutil.process_iter(["cmdline"])
            if "services.serving.llamacpp_server" in (cmd := " ".join(p.info["cmdline"] or [])) and str(folder) in cmd]


def test_gguf_export_served_by_llama_cpp(llamacpp_engines, structured_llama, quantdesk_home, tmp_path):
    results = {}
    for gguf_type in ("f16", "q8_0"):
        out = tmp_path / f"导出 {gguf_type}"
        r = cli(quantdesk_home, llamacpp_engines, "export", "--model", str(structured_llama), "--target", "gguf",
                "--gguf-type", gguf_type, "--no-gguf-verify", "--out", str(out))
        assert r.returncode == 0, r.stderr
        r = cli(quantdesk_home, llamacpp_engines, "serve", "--model", str(out), "--smoke", "--json",
                "--max-tokens", "24", "--parallel", "3")
        assert r.returncode == 0, r.stderr[-3000:]
        summary = json.loads(r.stdout)["summary"]
        results[gguf_type] = summary
        smoke = summary["smoke"]
        assert summary["engine"] == "llamacpp" and smoke["prompts"] == 10
        assert smoke["compared"] == f"compared with {structured_llama}"
        conc = smoke["concurrency"]
        assert conc["completed"] == 3 and conc["errors"] == [] and conc["tokens"] > 0, conc
        assert smoke["tokens_per_s_median"] > 0
        gguf = next(out.glob("*.gguf"))
        direct = subprocess.run([str(state("llamacpp", llamacpp_engines).python), "-c", DIRECT, str(gguf),
                                 str(summary["plan"]["context"]), "24", json.dumps(load_prompts())],
                                cwd=ROOT, capture_output=True, text=True, timeout=600,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert direct.returncode == 0, direct.stderr[-2000:]
        assert [a["text"] for a in smoke["answers"]] == json.loads(direct.stdout.splitlines()[-1])
    assert results["f16"]["smoke"]["verdict"] == "pass", results["f16"]["smoke"]["verdict_text"]
    assert results["f16"]["smoke"]["similarity_mean"] >= 0.8
    assert results["q8_0"]["smoke"]["similarity_mean"] >= 0.5
    assert servers(tmp_path) == []


def test_keep_running_serves_until_ctrl_c(llamacpp_engines, structured_llama, quantdesk_home, tmp_path):
    import signal
    import time

    from services.jobs.local import open_store
    from services.serving.client import chat

    out = tmp_path / "gguf"
    r = cli(quantdesk_home, llamacpp_engines, "export", "--model", str(structured_llama), "--target", "gguf",
            "--gguf-type", "q8_0", "--no-gguf-verify", "--out", str(out))
    assert r.returncode == 0, r.stderr
    port = 18000 + os.getpid() % 1000
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--model", str(next(out.glob("*.gguf"))),
                             "--keep-running", "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "QUANTDESK_HOME": str(quantdesk_home),
                                 "QUANTDESK_ENGINES": str(llamacpp_engines)})
    try:
        deadline = time.monotonic() + 180
        reply = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                reply = chat(f"http://127.0.0.1:{port}", "x", [{"role": "user", "content": "def"}], 8, timeout=5)
                break
            except Exception:
                time.sleep(0.5)
        assert reply is not None and reply.tokens > 0, proc.stderr.read() if proc.poll() is not None else "no reply"
        store = open_store()
        job = store.list()[0].id
        while time.monotonic() < deadline and not any(e.get("name") == "serving" for e in store.events(job)):
            time.sleep(0.2)  # Ctrl-C before this point cancels the start
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert "served" in err and servers(tmp_path) == []


def test_k_quants_through_the_engine(llamacpp_engines, structured_llama, quantdesk_home, tmp_path):
    """Without llama-quantize on PATH, the GGUF target makes Q4_K_M with the engine's llama_model_quantize."""
    out = tmp_path / "q4km"
    r = cli(quantdesk_home, llamacpp_engines, "export", "--model", str(structured_llama), "--target", "gguf",
            "--gguf-type", "q4_k_m", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr[-3000:]
    verify = json.loads(r.stdout)["summary"]["verify"]
    gguf = next(out.glob("*.gguf"))
    assert gguf.name.endswith("Q4_K_M.gguf") and verify["ok"]
    f16 = tmp_path / "f16"
    assert cli(quantdesk_home, llamacpp_engines, "export", "--model", str(structured_llama), "--target", "gguf",
               "--gguf-type", "f16", "--no-gguf-verify", "--out", str(f16)).returncode == 0
    assert gguf.stat().st_size < 0.6 * next(f16.glob("*.gguf")).stat().st_size
    r = cli(quantdesk_home, llamacpp_engines, "serve", "--model", str(out), "--json", "--max-tokens", "16",
            "--parallel", "1")
    assert r.returncode in (0, 1), r.stderr[-3000:]  # a fail verdict exits 1; the server must have answered
    assert all(a["tokens"] > 0 for a in json.loads(r.stdout)["summary"]["smoke"]["answers"])
