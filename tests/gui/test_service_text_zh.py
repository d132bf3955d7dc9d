"""In the Chinese interface the panels show the services' messages in Chinese (widgets/service_text.py), and in
English exactly as the services wrote them."""
import re

import pytest

from app import i18n
from app.jobs import JobService
from services.jobs.manager import JobManager
from services.jobs.store import JobStore
from tests.fakes.probe import healthy_windows
from tests.modelcfg import GQA_8B, LLAMA2_7B, write_config, write_safetensors
from widgets.quantize import QuantizePanel, gui_wording

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def zh(monkeypatch):
    monkeypatch.setattr(i18n, "_running", ["zh_CN"])  # as if started with --lang zh_CN (no .qm translator needed)


def test_environment_summaries_and_details_are_chinese(qtbot, zh):
    from tests.gui.test_environment_panel import make_panel

    def factory():
        p = healthy_windows()
        del p.path_cmds["ninja"]
        return p

    panel = make_panel(qtbot, factory)
    rows = {c.id: row for row, c in enumerate(panel.report.checks)}
    for row in range(panel.table.rowCount()):  # every title: Chinese, or a name that stays (PyTorch, ninja)
        title = panel.table.item(row, 1).text()
        assert CJK.search(title) or title in ("Python", "PyTorch", "ninja", "AutoAWQ", "transformers", "triton"), title
    # summaries in words are Chinese; those that are a version ("torch 2.13.0+cu126, CUDA 12.6") keep their names
    for cid in ("python", "venv", "nvidia", "msvc", "cl_arch", "long_paths", "compiler", "ninja", "autoawq", "disk",
                "hub", "cjk_font"):
        assert CJK.search(panel.table.item(rows[cid], 2).text()), (cid, panel.table.item(rows[cid], 2).text())
    assert panel.table.item(rows["torch"], 2).text() == "torch 2.13.0+cu126，CUDA 12.6"
    assert panel.selected().id == "ninja"
    details = panel.details.toPlainText()
    assert "找不到 ninja" in details and "RuntimeError: Ninja is required" in details  # the error text stays
    assert "pip install ninja" in details  # the command is never translated


def test_environment_panel_in_english_is_unchanged(qtbot):
    from tests.gui.test_environment_panel import make_panel

    panel = make_panel(qtbot, healthy_windows)
    for row, c in enumerate(panel.report.checks):
        assert panel.table.item(row, 1).text() == c.title and panel.table.item(row, 2).text() == c.summary


@pytest.fixture
def service(tmp_path):
    svc = JobService(JobManager(JobStore(tmp_path / "jobs.db"), tmp_path / "jobs"))
    yield svc
    svc.shutdown()


def test_quantize_preflight_error_is_chinese_without_the_command_line_advice(qtbot, zh, service, make_context,
                                                                             calib_file, tmp_path):
    p = QuantizePanel(make_context(jobs=service))
    qtbot.addWidget(p)
    p.calib.setCurrentText(str(calib_file))
    cfg = {**LLAMA2_7B, "hidden_size": 576, "num_attention_heads": 9, "intermediate_size": 1536}
    folder = write_config(tmp_path / "smol", cfg)
    write_safetensors(folder / "model.safetensors", 64)
    p.set_model(str(folder))
    qtbot.waitUntil(lambda: p.report is not None and not p.report.ok, timeout=5000)
    assert any("does not divide" in e for e in p.report.errors)  # the report itself stays English
    text = p.checks.text()
    assert "分组大小 128 不能整除" in text and "does not divide" not in text
    assert "--group-size" not in text  # the fix button says it, as in English
    p.shutdown()


def test_gui_wording_in_english_is_as_before():
    fixes = [{"setting": "seqlen", "value": 2048, "cli": "use --seqlen 2048 or less"}]
    message = "sequence length 4096 exceeds the model's max_position_embeddings 2048: use --seqlen 2048 or less"
    assert gui_wording(message, fixes, "en") == "sequence length 4096 exceeds the model's max_position_embeddings 2048"
    assert gui_wording(message, fixes, "zh_CN") == "序列长度 4096 超过了模型的 max_position_embeddings 2048"
    memory = [{"setting": "samples", "value": 10, "cli": "lower --samples or --seqlen, or close other programs"}]
    warning = ("this job may need about 9.0 GiB of RAM but 3.0 GiB is free: lower --samples or --seqlen, "
               "or close other programs")
    assert gui_wording(warning, memory, "en") == "this job may need about 9.0 GiB of RAM but 3.0 GiB is free"
    assert gui_wording(warning, memory, "zh_CN") == "此任务可能需要约 9.0 GiB 内存，但只有 3.0 GiB 可用"


def test_planner_notes_and_warnings_are_chinese(qtbot, zh, tmp_path):
    from widgets.memory_planner import MemoryPlanner

    planner = MemoryPlanner()
    qtbot.addWidget(planner)
    planner.show()
    planner.load_model(str(write_config(tmp_path / "8b", GQA_8B)))
    qtbot.waitUntil(lambda: planner.plan is not None, timeout=5000)
    text = planner.summary.text()
    assert "vLLM：KV 预算 = gpu_memory_utilization" in text  # the rule
    assert "其他显存（CUDA 上下文、运行时缓冲区）" in text and "激活峰值按" in text  # assumptions
    assert "other memory (CUDA context" not in text
    planner.context.setValue(planner.shape.max_positions * 2)
    assert "超过了模型的 max_position_embeddings" in planner.summary.text()  # a warning
    planner.tp.setValue(3)  # 32 attention heads do not split 3 ways: the error is Chinese too
    assert "张量并行 3 不能整除" in planner.summary.text()
