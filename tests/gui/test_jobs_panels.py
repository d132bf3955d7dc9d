"""The Quantize and Jobs panels over a real job manager (selftest jobs and a real tiny AWQ job)."""
import time

import pytest

from app.jobs import JobService
from services.jobs.manager import JobManager
from services.jobs.protocol import Progress
from services.jobs.spec import JobSpec
from services.jobs.store import JobStore
from widgets.jobs import JobsPanel, unique_out
from widgets.quantize import QuantizePanel


@pytest.fixture
def service(tmp_path):
    svc = JobService(JobManager(JobStore(tmp_path / "jobs.db"), tmp_path / "jobs"))
    yield svc
    svc.shutdown()


@pytest.fixture
def jobs_panel(qtbot, service, make_context):
    p = JobsPanel(make_context(jobs=service))
    qtbot.addWidget(p)
    p.show()
    yield p
    p.shutdown()


def selftest(**params):
    return JobSpec(kind="selftest", model="-", params=params)


def status(service, job_id):
    return service.store.get(job_id).status


def test_jobs_panel_follows_a_job_and_tails_its_log(qtbot, jobs_panel, service):
    rec = service.submit(selftest(steps=10, step_s=0.05))
    qtbot.waitUntil(lambda: status(service, rec.id) == "succeeded", timeout=30000)
    qtbot.waitUntil(lambda: jobs_panel.table.item(0, 3).text() == "succeeded", timeout=5000)
    assert jobs_panel.table.item(0, 4).text() == "10/10 step"
    jobs_panel.table.selectRow(0)
    qtbot.waitUntil(lambda: "library chatter" in jobs_panel.log_tail.toPlainText(), timeout=5000)
    assert jobs_panel.rerun_button.isEnabled() and not jobs_panel.cancel_button.isEnabled()


def test_cancel_rerun_and_delete_from_the_panel(qtbot, jobs_panel, service):
    rec = service.submit(selftest(steps=1000, step_s=0.05))
    qtbot.waitUntil(lambda: status(service, rec.id) == "running", timeout=10000)
    jobs_panel.refresh()
    jobs_panel.select(rec.id)
    assert jobs_panel.cancel_button.isEnabled()
    jobs_panel.cancel_button.click()
    qtbot.waitUntil(lambda: status(service, rec.id) == "cancelled", timeout=3000)
    qtbot.waitUntil(lambda: jobs_panel.table.item(0, 3).text() == "cancelled", timeout=5000)
    jobs_panel.select(rec.id)
    new_id = jobs_panel.rerun_selected()
    assert new_id != rec.id and service.store.get(new_id).spec.params == rec.spec.params
    service.cancel(new_id)
    jobs_panel.select(rec.id)
    jobs_panel.delete_selected()
    assert rec.id not in [r.id for r in service.store.list()]


def test_failed_job_shows_its_reason(qtbot, jobs_panel, service):
    rec = service.submit(selftest(steps=3, fail_at=1))
    qtbot.waitUntil(lambda: status(service, rec.id) == "failed", timeout=30000)
    jobs_panel.refresh()
    jobs_panel.select(rec.id)
    assert "selftest failed at step 1" in jobs_panel.summary.text()


def test_unique_out(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m-2").mkdir()
    assert unique_out(str(tmp_path / "m")) == str(tmp_path / "m-3")
    assert unique_out(str(tmp_path / "new")) == str(tmp_path / "new")


def test_quantize_panel_validates_inline(qtbot, service, make_context, calib_file, tmp_path):
    from tests.modelcfg import LLAMA2_7B, write_config, write_safetensors

    p = QuantizePanel(make_context(jobs=service))
    qtbot.addWidget(p)
    p.calib.setCurrentText(str(calib_file))  # a hub dataset cannot be read offline (its own test)
    cfg = {**LLAMA2_7B, "hidden_size": 576, "num_attention_heads": 9, "intermediate_size": 1536}
    folder = write_config(tmp_path / "smol", cfg)
    write_safetensors(folder / "model.safetensors", 64)
    p.set_model(str(folder))
    qtbot.waitUntil(lambda: p.report is not None and "does not divide" in p.checks.text(), timeout=5000)
    assert not p.start_button.isEnabled()
    assert "--group-size" not in p.checks.text()  # the GUI says it with a button, not a command-line flag
    assert "LlamaForCausalLM" in p.model_info.text()
    fix = p.fixes.itemAt(0).widget()
    assert fix.text() == "Use group size 64"
    fix.click()
    qtbot.waitUntil(lambda: p.report is not None and p.report.ok, timeout=5000)
    assert p.start_button.isEnabled() and "Ready" in p.checks.text() and p.fixes.count() == 0
    p.shutdown()


@pytest.mark.slow
def test_quantize_panel_runs_a_real_job_and_stays_responsive(qtbot, service, make_context, tiny_llama, calib_file,
                                                             tmp_path):
    from PySide6.QtCore import QTimer

    p = QuantizePanel(make_context(jobs=service))
    qtbot.addWidget(p)
    p.show()
    p.out_dir.setText(str(tmp_path / "out"))
    p.set_model(str(tiny_llama))
    p.calib.setCurrentText(str(calib_file))
    p.samples.setValue(16)
    p.seqlen.setValue(128)
    p.backend_form.set_value("group_size", 64)
    qtbot.waitUntil(lambda: p.start_button.isEnabled(), timeout=10000)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(50)
    job_id = p.start()
    seen_layers = []
    service.event.connect(lambda jid, ev: seen_layers.append(ev.message)
                          if isinstance(ev, Progress) and ev.unit == "layer" else None)
    qtbot.waitUntil(lambda: status(service, job_id) in ("succeeded", "failed"), timeout=180000)
    qtbot.waitUntil(lambda: p.job_id is None, timeout=5000)
    timer.stop()
    rec = service.store.get(job_id)
    assert rec.status == "succeeded", rec.error
    assert (tmp_path / "out" / "quantdesk.json").exists()
    assert any("layer" in (m or "") for m in seen_layers) and p.job_status.text().startswith("Done")
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert max(gaps) < 0.5  # the UI thread never stalled while the job ran


def test_jobs_panel_says_when_the_store_was_damaged(qtbot, make_context, tmp_path):
    (tmp_path / "jobs.db").write_bytes(b"not a database" * 64)
    svc = JobService(JobManager(JobStore(tmp_path / "jobs.db"), tmp_path / "jobs"))
    p = JobsPanel(make_context(jobs=svc))
    qtbot.addWidget(p)
    assert not p.notice.isHidden() and "jobs.db.corrupt-" in p.notice.text()
    svc.shutdown()


def test_queued_jobs_can_be_deleted_and_unknown_kinds_are_listed(qtbot, service, make_context):
    running = service.submit(JobSpec(kind="selftest", model="-", params={"steps": 200, "step_s": 0.05}))
    queued = service.submit(JobSpec(kind="selftest", model="-", params={"steps": 1}))
    service.store._exec("INSERT INTO jobs (id, kind, model, spec, status, created) VALUES (?,?,?,?,?,?)",
                        ("future", "distill", "/m", '{"kind": "distill", "model": "/m", "id": "future"}', "succeeded", 0))
    p = JobsPanel(make_context(jobs=service))
    qtbot.addWidget(p)
    p.select(queued.id)
    assert p.delete_button.isEnabled()
    p.delete_selected()
    assert queued.id not in [r.id for r in service.store.list()]
    p.select("future")
    assert not p.rerun_button.isEnabled()
    kinds = [p.table.item(row, 1).text() for row in range(p.table.rowCount())]
    assert "distill (newer version)" in kinds
    service.cancel(running.id)


def test_quantize_panel_refuses_outputs_that_would_lose_data(qtbot, service, make_context, tmp_path):
    from tests.modelcfg import LLAMA2_7B, write_config, write_safetensors

    p = QuantizePanel(make_context(jobs=service))
    qtbot.addWidget(p)
    folder = write_config(tmp_path / "model 模型", LLAMA2_7B)
    write_safetensors(folder / "model.safetensors")
    p.out_dir.setText(str(tmp_path))  # the folder that holds the model
    p.set_model(str(folder))
    qtbot.waitUntil(lambda: p.report is not None and "contains the input" in p.checks.text(), timeout=5000)
    assert not p.start_button.isEnabled()
    other = tmp_path / "documents"
    other.mkdir()
    (other / "thesis.txt").write_text("mine")
    p.out_dir.setText(str(other))
    p.overwrite.setChecked(True)
    qtbot.waitUntil(lambda: p.report is not None and "not an earlier QuantDesk output" in p.checks.text(), timeout=5000)
    assert not p.force.isHidden() and not p.start_button.isEnabled()
    p.out_dir.setText("relative/out")
    qtbot.waitUntil(lambda: p.report is not None and "is relative" in p.checks.text(), timeout=5000)


# -- compare methods
def _finished(service, spec, result):
    service.store.add(spec)
    service.store.set_status(spec.id, "succeeded", result=result)


def test_comparison_window_shows_a_finished_comparison_from_history(qtbot, jobs_panel, service, make_context,
                                                                    tmp_path):
    from widgets.compare import ComparisonWindow

    src, a, b = str(tmp_path / "src"), str(tmp_path / "m-gptq"), str(tmp_path / "m-fp8")
    qa = JobSpec(kind="quantize", model=src, out=a, params={"method": "gptq", "group_size": 128}, group="cmp-1")
    qb = JobSpec(kind="quantize", model=src, out=b, params={"method": "fp8-dynamic"}, group="cmp-1")
    _finished(service, qa, {"output_bytes": 30e6, "input_bytes": 100e6, "quantize_s": 12.5})
    _finished(service, qb, {"output_bytes": 55e6, "input_bytes": 100e6, "quantize_s": 1.5})
    ev = JobSpec(kind="eval", model=a, params={"baseline": src, "also": [b]}, group="cmp-1")
    _finished(service, ev, {"tokens": 4096, "context": 512, "variants": [
        {"model": src, "kv": "fp16", "perplexity": 20.0, "delta_pct": 0.0, "agreement": None},
        {"model": a, "kv": "fp16", "perplexity": 20.4, "delta_pct": 2.0, "agreement": 0.9},
        {"model": b, "kv": "fp16", "perplexity": 20.1, "delta_pct": 0.5, "agreement": 1.0}]})
    jobs_panel.refresh()
    jobs_panel.select(qa.id)
    assert jobs_panel.compare_button.isVisibleTo(jobs_panel)
    window = jobs_panel.show_comparison()
    qtbot.addWidget(window)
    assert isinstance(window, ComparisonWindow)
    t = window.table
    cells = [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]
    assert cells[0][0].startswith("source") and cells[0][2] == "0.0931" and cells[0][4] == "20.000"
    assert cells[1][:7] == ["gptq g128", "succeeded", "0.0279", "12.5", "20.400", "+2.00%", "90%"]
    assert cells[2][0] == "fp8-dynamic" and cells[2][6] == "100%"
    assert "4096 held-out tokens" in window.status.text() and not window.cancel_button.isEnabled()
    scatter = [i for i in window.chart.getPlotItem().items if type(i).__name__ == "ScatterPlotItem"]
    assert sorted(round(float(s.getData()[0][0]) * 1024**3 / 1e6, 3) for s in scatter) == [30.0, 55.0, 100.0]  # GiB
    assert window.grab().save(str(tmp_path / "compare.png"))
    jobs_panel.select(service.submit(selftest(steps=1)).id)
    assert not jobs_panel.compare_button.isVisibleTo(jobs_panel)


def test_a_running_comparison_can_be_cancelled_from_its_window(qtbot, service, make_context):
    from widgets.compare import ComparisonWindow

    members = [selftest(steps=400, step_s=0.05), selftest(steps=400, step_s=0.05)]
    group = service.submit_group(members, lambda ok: selftest(steps=1), "cmp-2")
    window = ComparisonWindow(make_context(jobs=service), "cmp-2")
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: status(service, members[0].id) == "running", timeout=10000)
    window.refresh()
    assert window.cancel_button.isEnabled() and "Running" in window.status.text()
    window.cancel_button.click()
    qtbot.waitUntil(lambda: group.status == "cancelled", timeout=10000)
    qtbot.waitUntil(lambda: not window.cancel_button.isEnabled(), timeout=5000)
    assert {status(service, s.id) for s in members} == {"cancelled"} and group.final_id is None


def test_compare_dialog_checks_the_plan_before_it_starts(qtbot, make_context, tiny_llama, calib_file, tmp_path):
    from widgets.compare import CompareDialog

    d = CompareDialog(make_context(), str(tiny_llama), {"calib": str(calib_file), "samples": 8, "seqlen": 64},
                      str(tmp_path / "对比 out"))
    qtbot.addWidget(d)
    for box in d.ticks.values():
        box.setChecked(False)
    d.check()
    qtbot.waitUntil(lambda: "tick at least one method" in d.errors.text(), timeout=10000)
    d.out_dir.setText("relative/out")
    d.check()
    assert "absolute" in d.errors.text()
    d.out_dir.setText(str(tmp_path / "对比 out"))
    d.ticks["gptq"].setChecked(True)
    d.ticks["fp8-dynamic"].setChecked(True)
    d.text.setEditText("wikitext2")
    d.check()
    qtbot.waitUntil(lambda: d.plan is not None, timeout=20000)
    assert [s.params["method"] for s in d.plan.members] == ["gptq", "fp8-dynamic"]
    assert {s.group for s in d.plan.members} == {d.plan.group}
    assert d.plan.members[0].out.endswith("对比 out/" + tiny_llama.name + "-gptq")


# -- targets
def test_targets_panel_checks_builds_and_shows_the_command(qtbot, service, make_context, tiny_llama, tmp_path):
    from widgets.targets import TargetsPanel

    p = TargetsPanel(make_context(jobs=service))
    qtbot.addWidget(p)
    p.show()
    assert p.target_name() == "vllm" and "gpu" in p.schema_form.fields
    p.open_with(model=str(tiny_llama))
    assert p.out_dir.text().endswith(f"{tiny_llama.name}-vllm")  # suggested
    p.out_dir.setText(str(tmp_path / "导出 out"))
    p.schema_form.set_value("gpu", "4090")
    p.schema_form.set_value("context", 256)
    qtbot.waitUntil(lambda: p.build_button.isEnabled(), timeout=15000)
    assert p.command.text().startswith("vllm serve ") and "--max-model-len 256" in p.command.text()
    assert "KV cache" in p.plan.text() and "--gpu-memory-utilization" in p.plan.text()
    job = p.build()
    qtbot.waitUntil(lambda: status(service, job) == "succeeded", timeout=60000)
    qtbot.waitUntil(lambda: p.open_button.isEnabled(), timeout=5000)
    assert (tmp_path / "导出 out" / "serve.sh").is_file() and "passed" in p.verify.text()
    p.copy_command()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == p.command.text()
    # a refused setting: the error is shown and Build stays off
    p.schema_form.set_value("kv", "int4")
    qtbot.waitUntil(lambda: "no int4 KV cache" in p.checks.text(), timeout=15000)
    assert not p.build_button.isEnabled()
    p.select_target("lmdeploy")
    assert "engine" in p.schema_form.fields and p.out_dir.text() == str(tmp_path / "导出 out")  # the user's folder
    p.shutdown()


def test_export_from_the_jobs_panel_opens_the_targets_panel(qtbot, jobs_panel, service, tmp_path):
    out = tmp_path / "quantized"
    out.mkdir()
    spec = JobSpec(kind="quantize", model=str(tmp_path / "src"), out=str(out), params={"method": "awq"})
    service.store.add(spec)
    service.store.set_status(spec.id, "succeeded", result={"out": str(out)})
    opened = []
    jobs_panel.context.navigator = lambda panel, **kw: opened.append((panel, kw))
    jobs_panel.refresh()
    jobs_panel.select(spec.id)
    assert jobs_panel.export_button.isEnabled()
    assert jobs_panel.export_selected() and opened == [("targets", {"model": str(out)})]


def test_log_view_hides_library_noise_and_jobs_show_their_duration(qtbot, jobs_panel, service):
    rec = service.submit(selftest(steps=2, step_s=0.05))
    qtbot.waitUntil(lambda: status(service, rec.id) == "succeeded", timeout=30000)
    with open(service.store.get(rec.id).log_path, "a", encoding="utf-8") as f:
        f.write("AWQ:  50%|█████     | 1/2 [00:01<00:01,  1.00it/s]\r"
                "/x/autoawq.py:12: DeprecationWarning: AutoAWQ is officially deprecated\n  warnings.warn(\n"
                "layer 2 of 2 quantized\n")
    jobs_panel.refresh()
    jobs_panel.select(rec.id)
    jobs_panel._reload_log()
    text = jobs_panel.log_tail.toPlainText()
    assert "layer 2 of 2 quantized" in text and "it/s]" not in text and "DeprecationWarning" not in text
    jobs_panel.raw_log.setChecked(True)
    assert "DeprecationWarning" in jobs_panel.log_tail.toPlainText()
    row = next(r for r in range(jobs_panel.table.rowCount()) if jobs_panel.table.item(r, 0).text() == rec.id)
    assert jobs_panel.table.item(row, 6).text().endswith(" s")


def test_quantize_output_name_follows_the_settings_until_the_user_names_it(qtbot, service, make_context, tiny_llama,
                                                                            tmp_path):
    panel = QuantizePanel(make_context(jobs=service))
    qtbot.addWidget(panel)
    panel.set_model(str(tiny_llama))
    assert panel.out_dir.text().endswith("-g128")
    panel.backend_form.set_value("group_size", 64)
    panel.schedule_check()
    assert panel.out_dir.text().endswith("-g64")
    panel.out_dir.setText(str(tmp_path / "mine"))
    panel.backend_form.set_value("group_size", 32)
    panel.schedule_check()
    assert panel.out_dir.text() == str(tmp_path / "mine")
    panel.out_dir.clear()
    panel.set_model(str(tmp_path / "typo"))  # no suggestion, no ERROR in the log (logfail would fail the test)
    assert panel.out_dir.text() == "" and "no config.json" in panel.model_info.text()


def test_evaluate_export_waits_for_results(qtbot, make_context):
    from widgets.evaluate import EvaluatePanel

    panel = EvaluatePanel(make_context())
    qtbot.addWidget(panel)
    assert not panel.export_md.isEnabled() and not panel.export_csv.isEnabled()
