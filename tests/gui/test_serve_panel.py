"""Serve and test from the Jobs panel: the FAKE engine (tests/fakes/openai_engine.py, not vLLM) answers
the smoke test, the chat box talks to it, Stop ends the server and the report shows."""
import pytest

from app.jobs import JobService
from services.jobs.manager import JobManager
from services.jobs.spec import JobSpec
from services.jobs.store import JobStore
from services.serving import engines
from tests.unit.test_serving import engine_pids, fake_engine
from widgets.jobs import JobsPanel
from widgets.serve import report_html

pytestmark = pytest.mark.slow


@pytest.fixture
def service(tmp_path):
    svc = JobService(JobManager(JobStore(tmp_path / "jobs.db"), tmp_path / "jobs"))
    yield svc
    svc.shutdown()


@pytest.fixture
def root(tmp_path, monkeypatch):
    """An engines folder holding the FAKE vLLM (tests/fakes/openai_engine.py)."""
    folder = tmp_path / "engines"
    folder.mkdir()
    monkeypatch.setenv(engines.ENGINES_ENV, str(folder))
    fake_engine(folder)
    return folder


def test_serve_and_test_then_chat_then_stop(qtbot, service, make_context, tiny_llama, tmp_path, root):
    panel = JobsPanel(make_context(jobs=service))
    qtbot.addWidget(panel)
    panel.show()
    export = service.submit(JobSpec(kind="export", model=str(tiny_llama), out=str(tmp_path / "vllm export"),
                                    params={"target": "vllm", "gpu_mem": 24.0}))
    qtbot.waitUntil(lambda: service.store.get(export.id).status in ("succeeded", "failed"), timeout=60000)
    assert service.store.get(export.id).status == "succeeded", service.store.get(export.id).error
    panel.refresh()
    panel.select(export.id)
    assert panel.serve_button.isVisible() and panel.serve_button.isEnabled() and not panel.export_button.isVisible()
    job = panel.serve_selected()
    qtbot.waitUntil(lambda: panel.chat.isVisible(), timeout=60000)
    assert panel.cancel_button.text() == "Stop server" and panel.chat.url.startswith("http://127.0.0.1:")
    panel.chat.input.setText("你好 there")
    panel.chat.send()
    qtbot.waitUntil(lambda: "you asked: 你好 there" in panel.chat.transcript.toPlainText() and not panel.chat.busy(),
                    timeout=20000)
    assert len(panel.chat.history) == 2
    monitor = live_monitor(qtbot, make_context, service)
    qtbot.waitUntil(lambda: monitor.kv.isVisible() and any(len(c.getData()[0] or []) for c in monitor.kv.curves.values()),
                    timeout=20000)
    assert "engine pool" in monitor.kv.refs and "of the KV cache in use" in monitor.kv_note.text()
    monitor.shutdown()
    qtbot.waitUntil(lambda: any(e.get("name") == "serving" for e in service.store.events(job)), timeout=60000)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: service.store.get(job).status == "succeeded", timeout=30000)
    panel.refresh()
    panel.select(job)
    qtbot.waitUntil(lambda: "served" in panel.summary.text(), timeout=5000)
    assert not panel.chat.isVisible() and "Similarity" in panel.summary.text()
    assert engine_pids(root) == []


def live_monitor(qtbot, make_context, service):
    from services.telemetry.host import HostSample
    from services.telemetry.sampler import Sampler
    from widgets.monitor import MonitorPanel

    sampler = Sampler(rate_hz=5, host=lambda: HostSample(cpu_percent=1.0, ram_used=1, ram_total=2)).start()
    monitor = MonitorPanel(make_context(jobs=service, sampler=sampler))
    qtbot.addWidget(monitor)
    monitor.show()
    return monitor


def test_report_html_escapes_answers():
    r = {"engine": "llamacpp", "model": "/m", "url": "http://127.0.0.1:1", "ready_s": 1.0,
         "smoke": {"verdict": "fail", "verdict_text": "bad <b>", "ttft_s_median": 0.1, "tokens_per_s_median": 9,
                   "concurrency": None, "answers": [{"prompt": "<p>", "text": "<script>", "similarity": 0.5}]}}
    text = report_html(r)
    assert "&lt;script&gt;" in text and "50%" in text and "bad &lt;b&gt;" in text


def test_serve_offers_to_install_a_missing_engine(qtbot, service, make_context, tiny_llama, tmp_path, root,
                                                  monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    panel = JobsPanel(make_context(jobs=service))
    qtbot.addWidget(panel)
    export = service.submit(JobSpec(kind="export", model=str(tiny_llama), out=str(tmp_path / "lmd"),
                                    params={"target": "lmdeploy", "gpu_mem": 24.0}))
    qtbot.waitUntil(lambda: service.store.get(export.id).status == "succeeded", timeout=60000)
    panel.refresh()
    panel.select(export.id)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a: asked.append(a[2]) or QMessageBox.StandardButton.No)
    assert panel.serve_selected() is None and "LMDeploy is not ready" in asked[0]
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    submitted = []
    monkeypatch.setattr(service, "submit", submitted.append)  # no real install (it would fetch LMDeploy)
    panel.serve_selected()
    assert [(s.kind, s.params) for s in submitted] == [("engine", {"engine": "lmdeploy"})]


def test_environment_fix_starts_the_install_as_a_job(qtbot, service, make_context, monkeypatch):
    from services.envcheck.model import Fix
    from widgets.environment import EnvironmentPanel

    panel = EnvironmentPanel(make_context(jobs=service))
    qtbot.addWidget(panel)
    submitted = []
    monkeypatch.setattr(service, "submit", submitted.append)  # no real install in a test
    panel.start_fix_job(Fix("job", "install llama.cpp", action="engine", args=["llamacpp"]))
    panel.start_fix_job(Fix("job", "repair the ML runtime", action="runtime", args=["repair"]))
    assert [(s.kind, s.params.get("engine"), s.params.get("repair")) for s in submitted] == [
        ("engine", "llamacpp", None), ("runtime", None, True)]
    assert submitted[1].params["build"] in ("cpu", "cu126", "cu128", "cu130")
    assert "Jobs panel" in panel.status.text()
