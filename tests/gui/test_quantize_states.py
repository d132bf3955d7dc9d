"""The Quantize panel tells the truth before Start: an unreadable calibration dataset is an error with
one-click fallbacks, and a memory warning holds Start until the user says "start anyway"."""
from __future__ import annotations

import pytest

import widgets.quantize as quantize_panel
from services.quant.preflight import preflight
from widgets.quantize import QuantizePanel


@pytest.fixture
def panel(qtbot, make_context, tiny_llama, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    p = QuantizePanel(make_context())
    qtbot.addWidget(p)
    p.show()
    p.out_dir.setText(str(tmp_path / "out"))
    p.set_model(str(tiny_llama))
    return p


def _fix_buttons(p):
    return [p.fixes.itemAt(i).widget().text() for i in range(p.fixes.count()) if p.fixes.itemAt(i).widget()]


def test_an_offline_hub_dataset_is_an_error_before_start_with_fallbacks(qtbot, panel, calib_file, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    panel.calib.setCurrentText("pileval")
    panel.check()
    qtbot.waitUntil(lambda: "cannot be read" in panel.checks.text(), timeout=10000)
    assert "offline mode is on" in panel.checks.text() and "Ready" not in panel.checks.text()
    assert not panel.start_button.isEnabled()
    assert _fix_buttons(panel) == ["Use a local file…"]
    cached = tmp_path / "hf" / "hub" / "datasets--Salesforce--wikitext"
    cached.mkdir(parents=True)  # wikitext2 is in the cache: offered, and one click picks it
    panel.check()
    qtbot.waitUntil(lambda: "Use wikitext2 (in the cache)" in _fix_buttons(panel), timeout=10000)
    panel.fixes.itemAt(1).widget().click()
    assert panel.calib.currentText() == "wikitext2"
    panel.check()
    qtbot.waitUntil(lambda: "Ready" in panel.checks.text(), timeout=10000)
    assert panel.start_button.isEnabled() and _fix_buttons(panel) == []


def test_a_memory_warning_holds_start_until_start_anyway(qtbot, panel, calib_file, monkeypatch):
    monkeypatch.setattr(quantize_panel, "preflight", lambda m, o, s: preflight(m, o, s, memory_free=lambda: 1024))
    panel.calib.setCurrentText(str(calib_file))
    panel.check()
    qtbot.waitUntil(lambda: panel.start_anyway.isVisible(), timeout=10000)
    assert "GiB of RAM" in panel.checks.text() and "Ready" not in panel.checks.text()  # no green headline
    assert "--samples" not in panel.checks.text()
    assert not panel.start_button.isEnabled() and panel.start() is None
    panel.start_anyway.setChecked(True)
    assert panel.start_button.isEnabled()
    monkeypatch.setattr(quantize_panel, "preflight", preflight)
    panel.check()
    qtbot.waitUntil(lambda: not panel.start_anyway.isVisible(), timeout=10000)
    assert panel.start_button.isEnabled() and not panel.start_anyway.isChecked()


def test_number_fields_are_not_stretched_across_the_form(qtbot, panel):
    panel.resize(1020, 760)
    qtbot.wait(20)
    assert max(panel.samples.width(), panel.seqlen.width(), panel.seed.width()) <= 180


def test_a_memory_warning_offers_the_samples_that_fit_and_one_click_clears_it(qtbot, panel, calib_file,
                                                                               monkeypatch):
    """Less RAM than the job needs but enough for fewer samples: a "Use N samples" button, not "lower --samples"."""
    panel.calib.setCurrentText(str(calib_file))
    need = preflight(panel.model_dir.text(), panel.out_dir.text(), panel.settings(),
                     memory_free=lambda: 1 << 50).info["estimated_memory_bytes"]
    free = need // 2  # about half the samples fit
    monkeypatch.setattr(quantize_panel, "preflight", lambda m, o, s: preflight(m, o, s, memory_free=lambda: free))
    panel.check()
    qtbot.waitUntil(lambda: any(t.endswith(" samples") for t in _fix_buttons(panel)), timeout=10000)
    assert "GiB of RAM" in panel.checks.text() and "--samples" not in panel.checks.text()
    assert panel.start_anyway.isVisible() and not panel.start_button.isEnabled()
    (label,) = _fix_buttons(panel)
    n = int(label.split()[1])
    assert label == f"Use {n} samples" and 0 < n < 128
    panel.fixes.itemAt(0).widget().click()
    assert panel.samples.value() == n
    panel.check()
    qtbot.waitUntil(lambda: "Ready" in panel.checks.text(), timeout=10000)
    assert "GiB of RAM" not in panel.checks.text() and _fix_buttons(panel) == []
    assert not panel.start_anyway.isVisible() and panel.start_button.isEnabled()


def test_an_unreachable_hub_is_an_error_before_start_with_fallbacks(qtbot, panel, tmp_path, monkeypatch):
    """Online but the hub does not answer (not only HF_HUB_OFFLINE): said before Start, with the other sources
    as buttons."""
    from services.datasets import reachable

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(reachable, "hub_unreachable", lambda timeout=2.0: "URLError: timed out")
    (tmp_path / "hf" / "hub" / "datasets--allenai--c4").mkdir(parents=True)  # c4 is in the cache
    panel.calib.setCurrentText("pileval")
    panel.check()
    qtbot.waitUntil(lambda: "cannot be reached" in panel.checks.text(), timeout=10000)
    assert "URLError: timed out" in panel.checks.text() and "Ready" not in panel.checks.text()
    assert not panel.start_button.isEnabled() and panel.start() is None
    assert _fix_buttons(panel) == ["Use a local file…", "Use c4 (in the cache)"]
    panel.fixes.itemAt(1).widget().click()
    assert panel.calib.currentText() == "c4"


def test_no_backend_or_target_spin_box_is_wider_than_a_number_needs(qtbot, make_context):
    """Issue 17: the schema forms' spin boxes stretched across the form (600 px)."""
    from PySide6.QtWidgets import QAbstractSpinBox

    from services.targets.registry import TARGETS
    from widgets.forms import SPIN_WIDTH
    from widgets.targets import TargetsPanel

    q = QuantizePanel(make_context())
    qtbot.addWidget(q)
    q.resize(1400, 900)
    q.show()
    seen = 0
    for method in [q.method.itemText(i) for i in range(q.method.count())]:
        q.method.setCurrentText(method)
        for backend in [q.backend.itemText(i) for i in range(q.backend.count())]:
            q.backend.setCurrentText(backend)
            qtbot.wait(1)
            boxes = [w for w in q.backend_form.fields.values() if isinstance(w, QAbstractSpinBox)]
            seen += len(boxes)
            assert all(0 < b.width() <= SPIN_WIDTH for b in boxes), (method, backend, [b.width() for b in boxes])
    t = TargetsPanel(make_context())
    qtbot.addWidget(t)
    t.resize(1400, 900)
    t.show()
    for name in TARGETS:
        t.select_target(name)
        qtbot.wait(1)
        boxes = [w for w in t.schema_form.fields.values() if isinstance(w, QAbstractSpinBox)]
        seen += len(boxes)
        assert all(0 < b.width() <= SPIN_WIDTH for b in boxes), (name, [b.width() for b in boxes])
    assert seen >= 5
    q.shutdown()
    t.shutdown()
