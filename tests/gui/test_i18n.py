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
        assert [w.nav.item(i).text() for i in range(4)] == ["概览", "环境", "数据集", "量化"]
    finally:
        install_translation(qapp, "en")
    w2 = MainWindow(make_context(settings=Settings(last_panel="jobs")))
    qtbot.addWidget(w2)
    assert w2.nav.item(1).text() == "Environment"


def test_every_string_in_the_code_is_in_the_translation(tmp_path):
    """lupdate over a copy of the .ts: a translate() call without a Chinese entry shows up as unfinished."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import ROOT

    copy = tmp_path / TS.name
    shutil.copy(TS, copy)
    sources = sorted(str(p) for d in ("app", "widgets") for p in (ROOT / d).rglob("*.py"))
    exe = Path(sys.executable).parent / "pyside6-lupdate"
    subprocess.run([str(exe), "-no-obsolete", "-locations", "none", "-target-language", "zh_CN", *sources, "-ts",
                    str(copy)], cwd=ROOT, check=True, capture_output=True, timeout=120)
    missing = [m.findtext("source") for m in ET.parse(copy).iter("message")
               if m.find("translation").get("type") == "unfinished"]
    assert missing == [], "run resources/translations/update.py and translate these"
