"""The Monitor panel: live charts from a (fake) sampler, the planner section, PNG export."""
import time

import pytest

from services.memory.planner import GIB
from services.telemetry.gpu import NvmlReader
from services.telemetry.host import HostSample
from services.telemetry.sampler import Sampler
from tests.fakes.nvml import FakeNvml, rtx4090
from tests.modelcfg import GQA_8B, LLAMA2_7B, write_config
from widgets.monitor import MonitorPanel


def fake_host():
    return HostSample(cpu_percent=20.0, ram_used=9 * GIB, ram_total=24 * GIB)


@pytest.fixture
def fake_sampler():
    fake = FakeNvml([rtx4090()])
    s = Sampler(rate_hz=20, gpu=NvmlReader(fake), host=fake_host)
    s.fake = fake
    yield s.start()
    s.stop()


@pytest.fixture
def panel(qtbot, fake_sampler, make_context):
    p = MonitorPanel(make_context(sampler=fake_sampler))
    qtbot.addWidget(p)
    p.resize(1100, 700)
    p.show()
    yield p
    p.shutdown()


def test_live_charts_follow_the_sampler(qtbot, panel, fake_sampler):
    qtbot.waitUntil(lambda: "gpu0" in panel.gpu_mem.curves, timeout=3000)
    fake_sampler.fake.gpus[0]["used"] = 20 * GIB
    qtbot.waitUntil(lambda: panel.gpu_mem.curves["gpu0"].getData()[1][-1] == pytest.approx(20.0), timeout=3000)
    assert panel.gpu_mem.isVisibleTo(panel)
    assert "Sampling 1 GPU(s)" in panel.gpu_note.text()
    ys = panel.host_mem.curves["host used"].getData()[1]
    assert ys[-1] == pytest.approx(9.0)


def test_charts_update_without_blocking_the_ui(qtbot, panel):
    ticks = []
    from PySide6.QtCore import QTimer

    t = QTimer()
    t.timeout.connect(lambda: ticks.append(time.monotonic()))
    t.start(10)
    qtbot.wait(600)
    t.stop()
    assert len(ticks) >= 30  # the event loop kept turning while the sampler ran and charts redrew


def test_no_gpu_shows_host_only_and_says_why(qtbot, make_context):
    s = Sampler(gpu=NvmlReader(FakeNvml(fail_init="NVML Shared Library Not Found")), host=fake_host)
    s.sample_once()
    p = MonitorPanel(make_context(sampler=s))
    qtbot.addWidget(p)
    p.show()
    assert "NVML Shared Library Not Found" in p.gpu_note.text()
    assert not p.gpu_mem.isVisibleTo(p)
    assert "host used" in p.host_mem.curves
    p.shutdown()


def test_planner_plans_a_model_and_draws_reference_lines(qtbot, panel, tmp_path):
    folder = write_config(tmp_path / "Llama 3 8B 模型", GQA_8B)
    panel.tabs.setCurrentIndex(1)
    planner = panel.planner
    assert planner.gpu.itemText(0).startswith("NVIDIA GeForce RTX 4090")  # the detected GPU first
    planner.load_model(str(folder))
    qtbot.waitUntil(lambda: planner.plan is not None, timeout=5000)
    assert planner.plan.kv_bytes_per_token == 131_072
    assert "Fits" in planner.summary.text() and "read the warnings" not in planner.summary.text()
    planner.context.setValue(planner.shape.max_positions * 2)  # beyond the model: no green "Fits" above it
    assert "Fits, but read the warnings" in planner.summary.text() and "exceeds" in planner.summary.text()
    planner.context.setValue(4096)
    assert "planned weights" in panel.gpu_mem.refs
    planner.kv.setCurrentText("int8")
    planner.engine.setCurrentText("lmdeploy")
    assert planner.plan.kv_bytes_per_token == 67_584 and planner.plan.engine == "lmdeploy"
    assert not planner.utilization.isEnabled() and planner.cme.isEnabled()
    assert len(planner.curve.listDataItems()) == 4  # fp16, int8, int4, fp8 curves


def test_planner_shows_does_not_fit_and_bad_folders(qtbot, panel, tmp_path, logfail):
    logfail.allow("read-model-config failed")
    planner = panel.planner
    planner.gpu.setCurrentIndex(planner.gpu.findText("RTX 2080 Ti (11 GiB)"))
    planner.weights.setCurrentText("fp16")
    planner.load_model(str(write_config(tmp_path / "7b", LLAMA2_7B)))
    qtbot.waitUntil(lambda: planner.plan is not None, timeout=5000)
    assert not planner.plan.fits and "Does not fit" in planner.summary.text()
    planner.load_model(str(tmp_path / "missing"))
    qtbot.waitUntil(lambda: "model folder not found" in planner.model_info.text(), timeout=5000)
    assert planner.plan is None and "planned weights" not in panel.gpu_mem.refs


def test_export_chart_as_png(qtbot, panel, tmp_path):
    from PySide6.QtGui import QImage

    from widgets.charts import export_png

    panel.planner.load_model(str(write_config(tmp_path / "m", GQA_8B)))
    qtbot.waitUntil(lambda: panel.planner.plan is not None, timeout=5000)
    panel.tabs.setCurrentIndex(1)
    out = tmp_path / "计划 plan.png"
    assert export_png(panel.planner, out)
    assert QImage(str(out)).width() > 300


def test_planner_takes_a_finished_jobs_output(qtbot, panel, tmp_path):
    folder = write_config(tmp_path / "out-awq", {**GQA_8B, "quantization_config": {
        "quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemm", "zero_point": True}})
    panel.planner.set_saved_outputs([("out-awq (job 1)", str(folder))])
    assert panel.planner.saved.count() == 2
    panel.planner.saved.activated.emit(1)
    qtbot.waitUntil(lambda: panel.planner.plan is not None, timeout=5000)
    assert panel.planner.plan.weights_format == "awq4"
