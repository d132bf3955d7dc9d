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
