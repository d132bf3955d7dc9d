"""The Datasets panel runs the preview in a child process: results, errors, cancel, recent sources."""
import pytest

from services.settings import load_settings
from tests.unit.test_datasets import EN, ZH
from widgets.datasets import DatasetsPanel


@pytest.fixture
def panel(qtbot, context):
    p = DatasetsPanel(context)
    qtbot.addWidget(p)
    p.show()
    yield p
    p.shutdown()


def wait_idle(qtbot, panel, timeout=60000):
    qtbot.waitUntil(lambda: panel.worker is None, timeout=timeout)


def test_preview_of_a_gbk_file_with_a_tokenizer(qtbot, panel, tmp_path, tiny_tokenizer):
    src = tmp_path / "校准 数据.txt"
    src.write_bytes(("\n\n".join([EN * 3, ZH * 4] * 10)).encode("gbk"))
    panel.source.setCurrentText(str(src))
    panel.tokenizer.setText(str(tiny_tokenizer))
    panel.seqlen.setValue(32)
    panel.samples.setValue(4)
    panel.start_preview()
    assert not panel.preview_button.isEnabled()
    wait_idle(qtbot, panel)
    doc = panel.result
    assert doc and doc["encoding"] == "gb18030" and doc["texts"] == 20 and doc["samples"] == 4
    assert "gb18030" in panel.stats.text() and "Samples available" in panel.stats.text()
    assert ZH in panel.texts.toPlainText()
    bars = panel.histogram.listDataItems()
    assert len(bars) == 1 and sum(bars[0].opts["height"]) == 20  # one bar chart over the 20 texts
    assert load_settings().recent["datasets"][0] == str(src)


def test_bad_input_is_shown_in_one_line(qtbot, panel, tmp_path, logfail):
    logfail.allow("dataset-preview failed")
    src = tmp_path / "empty.txt"
    src.write_bytes(b"")
    panel.source.setCurrentText(str(src))
    panel.start_preview()
    wait_idle(qtbot, panel)
    assert "is empty" in panel.status.text() and panel.result is None
    assert panel.preview_button.isEnabled()


def test_no_source_asks_for_one(panel):
    panel.source.setCurrentText("")
    panel.start_preview()
    assert panel.worker is None and "dataset name" in panel.status.text()


def test_cancel_kills_the_preview(qtbot, panel, tmp_path, tiny_tokenizer):
    src = tmp_path / "t.txt"
    src.write_text((EN + "\n\n") * 200, encoding="utf-8")
    panel.source.setCurrentText(str(src))
    panel.tokenizer.setText(str(tiny_tokenizer))
    panel.start_preview()
    panel.cancel()
    wait_idle(qtbot, panel, timeout=10000)
    assert panel.status.text() == "Cancelled." and panel.result is None


def test_a_failed_preview_clears_the_previous_sources_results_and_warnings_sit_above_them(qtbot, panel, tmp_path,
                                                                                          tiny_tokenizer, logfail):
    logfail.allow("dataset-preview failed")
    src = tmp_path / "short.txt"
    src.write_text("\n\n".join([EN] * 17), encoding="utf-8")
    panel.source.setCurrentText(str(src))
    panel.tokenizer.setText(str(tiny_tokenizer))
    panel.seqlen.setValue(32)
    panel.samples.setValue(128)  # about 19 samples of 32 tokens in 612 tokens: fewer than asked
    panel.start_preview()
    wait_idle(qtbot, panel)
    assert panel.result and panel.warnings.isVisible() and "128" in panel.warnings.text()
    assert "128" not in panel.stats.text().split("Token hash")[-1]  # the warning is not under the table
    assert panel.histogram.listDataItems()
    (tmp_path / "empty.txt").write_bytes(b"")
    panel.source.setCurrentText(str(tmp_path / "empty.txt"))
    panel.start_preview()
    wait_idle(qtbot, panel)
    assert "is empty" in panel.status.text() and panel.result is None
    assert "could not be read" in panel.stats.text() and "Samples available" not in panel.stats.text()
    assert not panel.histogram.listDataItems() and not panel.texts.toPlainText()
    assert not panel.warnings.isVisible()
