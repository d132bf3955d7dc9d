import xml.etree.ElementTree as ET

import resources
from app.i18n import compiled_qm, install_translation
from app.mainwindow import MainWindow
from services.settings import Settings

TS = resources.TRANSLATIONS / "quantdesk_zh_CN.ts"


def test_every_string_has_a_chinese_translation():
    unfinished = [m.findtext("source") for m in ET.parse(TS).iter("message")
                  if m.find("translation").get("type") in ("unfinished", "obsolete")]
    assert unfinished == []


def test_qm_is_compiled_at_first_use(tmp_path):
    qm = compiled_qm("zh_CN", out_dir=tmp_path)
    assert qm and qm.stat().st_size > 0


def test_window_speaks_simplified_chinese(qtbot, qapp, make_context):
    assert install_translation(qapp, "zh_CN")
    try:
        w = MainWindow(make_context(settings=Settings(language="zh_CN", last_panel="jobs")))
        qtbot.addWidget(w)
        assert [w.nav.item(i).text() for i in range(3)] == ["环境", "数据集", "量化"]
    finally:
        install_translation(qapp, "en")
    w2 = MainWindow(make_context(settings=Settings(last_panel="jobs")))
    qtbot.addWidget(w2)
    assert w2.nav.item(0).text() == "Environment"
