"""The real application process: screenshots of every panel, no ML library in the GUI process."""
import json
import subprocess
import sys

import pytest
from PySide6.QtGui import QImage

from tests.conftest import ROOT, run_python
from widgets.registry import PANEL_IDS


@pytest.mark.parametrize(("size", "lang"), [((1200, 800), "en"), ((1024, 700), "en"), ((1024, 700), "zh_CN")],
                         ids=["1200x800", "1024x700", "1024x700-zh_CN"])
@pytest.mark.parametrize("panel", PANEL_IDS)
def test_screenshot_of_each_panel(tmp_path, panel, size, lang):
    """Every panel fits the window it is given: no panel forces a bigger one (issue 17: Quantize made a 1024x700
    window 1037 px wide, Evaluate 1106x755), so the picture has exactly the size asked for."""
    out = tmp_path / f"{panel} 截图.png"
    proc = subprocess.run([sys.executable, "-m", "app", "gui", "--panel", panel, "--screenshot", str(out),
                           "--size", f"{size[0]}x{size[1]}", "--lang", lang], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    img = QImage(str(out))
    assert (img.width(), img.height()) == size
    colours = {img.pixel(x, y) for x in range(0, size[0], 37) for y in range(0, size[1], 23)}
    assert len(colours) > 5  # a rendered window, not a blank image


def test_no_ml_library_is_loaded_by_the_gui():
    code = (
        "import sys, json\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from app.context import AppContext\n"
        "from app.mainwindow import MainWindow\n"
        "w = MainWindow(AppContext()); w.show(); app.processEvents()\n"
        "for pid in w.panel_ids: w.show_panel(pid); app.processEvents()\n"
        "bad = ('torch', 'transformers', 'datasets', 'awq', 'accelerate', 'llmcompressor')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in bad)))\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_the_first_window_loads_no_nvml_no_network_client_and_runs_no_check(tmp_path):
    """Issue 17: nothing slow before the first paint: the Overview (the first panel) opens the job store after
    it, the Environment checks are not started, NVML and the hub/cluster clients are not imported."""
    import os

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QUANTDESK_HOME": str(tmp_path), "QUANTDESK_STARTUP_PROBE": "1"}
    proc = subprocess.run([sys.executable, "-m", "app", "gui"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[0])
    assert report == {"shown": True, "ml_modules": [], "slow_modules": [], "workers": []}
