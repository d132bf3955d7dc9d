"""Clusters in the workbench: Settings > Clusters, "Run on" in the Quantize panel, cluster jobs and Fetch in
the Jobs panel, all against the FAKE JobSubmissionClient (tests/fakes/ray_jobs.py; no Ray here)."""
from __future__ import annotations

import json

import pytest

from app.jobs import JobService
from services.clusters.config import Storage, load_clusters
from services.jobs.local import make_manager
from services.jobs.spec import JobSpec
from tests.fakes.ray_jobs import use_fake_cluster
from widgets.clusters_editor import ClustersEditor, parse_storage
from widgets.jobs import JobsPanel
from widgets.quantize import QuantizePanel


@pytest.fixture
def fake_ray(tmp_path, monkeypatch):
    shared = tmp_path / "shared 共享"
    shared.mkdir()
    use_fake_cluster(monkeypatch, tmp_path, str(shared), str(shared))
    return shared


@pytest.fixture
def service(quantdesk_home):
    svc = JobService(make_manager())
    yield svc
    svc.shutdown()


def test_settings_clusters_tab_refuses_a_bad_cluster_then_saves_checks_and_removes_one(qtbot, fake_ray):
    editor = ClustersEditor()
    qtbot.addWidget(editor)
    assert editor.list.count() == 1 and editor.name.text() == "lab"
    editor.new()
    editor.name.setText("gpu farm")
    editor.address.setText("10.0.0.9:8265")
    assert not editor.save()
    assert "cluster name 'gpu farm'" in editor.status.text() and "http://10.0.0.5:8265" in editor.status.text()
    assert load_clusters().names() == ["lab"]  # nothing saved
    editor.name.setText("farm")
    editor.address.setText("http://10.0.0.9:8265/")
    editor.header.setText("Authorization: Bearer abc")
    editor.storage.setPlainText("/mnt/shared = Z:\\shared\n/data =")
    editor.default.setChecked(True)
    assert editor.save()
    saved = load_clusters()
    assert saved.default == "farm" and saved.get("farm").headers == {"Authorization": "Bearer abc"}
    assert [(s.remote, s.local) for s in saved.get("farm").storage] == [("/mnt/shared", "Z:\\shared"), ("/data", "")]
    editor.check()
    qtbot.waitUntil(lambda: editor.check_button.isEnabled(), timeout=30000)
    assert "1 node(s), 8 CPU" in editor.status.text()  # the dead node is not counted
    editor.remove()
    assert load_clusters().names() == ["lab"] and "records of its jobs stay" in editor.status.text()
    assert parse_storage("/x\n\n/y = \n") == [Storage("/x", "/x"), Storage("/y", "")]


@pytest.mark.allow_log_errors
def test_quantize_run_on_a_cluster_checks_its_paths_and_resources(qtbot, make_context, fake_ray, tiny_llama,
                                                                    tmp_path, monkeypatch):
    panel = QuantizePanel(make_context())
    qtbot.addWidget(panel)
    panel.show()
    assert [panel.run_on.itemText(i) for i in range(panel.run_on.count())] == ["This machine", "Cluster lab"]
    panel.model_dir.setText(str(tiny_llama))
    panel.out_dir.setText(str(fake_ray / "awq"))
    panel.calib.setCurrentText("wikitext2")
    panel.run_on.setCurrentIndex(1)
    panel.check()
    qtbot.waitUntil(lambda: "cannot read" in panel.checks.text(), timeout=30000)
    assert not panel.start_button.isEnabled()  # the model is on this machine only
    model = fake_ray / "model"
    model.symlink_to(tiny_llama, target_is_directory=True)
    panel.model_dir.setText(str(model))
    panel.check()
    qtbot.waitUntil(lambda: "Ready to run on cluster lab" in panel.checks.text(), timeout=30000)
    assert panel.start_button.isEnabled()
    spec = panel.report.info["remote_spec"]
    assert spec.executor == "ray:lab" and spec.model == str(model) and "num_gpus" not in spec.params
    assert "8 CPU" in panel.checks.text()  # planned against the cluster's resources
    monkeypatch.setenv("FAKE_RAY_MODE", "down")
    panel.check()
    qtbot.waitUntil(lambda: "Failed to connect" in panel.checks.text(), timeout=30000)
    assert not panel.start_button.isEnabled()


def test_a_cluster_job_in_the_jobs_panel_says_where_it_ran_and_fetches_its_output(qtbot, make_context, service,
                                                                                   fake_ray, tmp_path):
    panel = JobsPanel(make_context(jobs=service))
    qtbot.addWidget(panel)
    panel.show()
    rec = service.submit(JobSpec(kind="selftest", model="-", out=str(fake_ray / "done"),
                                 params={"steps": 3, "step_s": 0.02}, executor="ray:lab"))
    qtbot.waitUntil(lambda: service.store.get(rec.id).final, timeout=60000)
    assert service.store.get(rec.id).status == "succeeded", service.store.get(rec.id).error
    panel.refresh()
    panel.select(rec.id)
    assert panel.table.item(panel.table.currentRow(), 1).text() == "self-test @ lab"
    assert "Runs on cluster lab" in panel.summary.text()
    assert panel.fetch_button.isVisible() and panel.fetch_button.isEnabled()
    here = tmp_path / "本地 copies"
    here.mkdir()
    job = panel.fetch_selected(str(here))
    qtbot.waitUntil(lambda: service.store.get(job).final, timeout=60000)
    fetched = service.store.get(job)
    assert fetched.status == "succeeded", fetched.error
    assert fetched.result["via"] == "mount" and (here / "done" / "step2.txt").read_text() == "2"
    assert json.loads(json.dumps(fetched.result))["files"] == 3
    panel.select(job)
    assert not panel.fetch_button.isVisible()  # the copy is a local job


def test_a_cluster_job_nobody_follows_can_be_followed_again_from_the_jobs_panel(qtbot, make_context, fake_ray,
                                                                               quantdesk_home):
    first = JobService(make_manager())
    rec = first.submit(JobSpec(kind="selftest", model="-", out=str(fake_ray / "again"),
                               params={"steps": 30, "step_s": 0.05}, executor="ray:lab"))
    qtbot.waitUntil(lambda: first.store.get(rec.id).done >= 2, timeout=30000)
    first.shutdown()  # QuantDesk closes; the job goes on on the cluster, followed by nobody
    second = JobService(make_manager())
    panel = JobsPanel(make_context(jobs=second))
    qtbot.addWidget(panel)
    panel.show()
    panel.refresh()
    panel.select(rec.id)
    assert panel.follow_button.isVisible()
    panel.follow_button.click()
    qtbot.waitUntil(lambda: second.store.get(rec.id).final, timeout=60000)
    assert second.store.get(rec.id).status == "succeeded"
    panel.refresh()
    panel.select(rec.id)
    assert not panel.follow_button.isVisible()
    second.shutdown()
