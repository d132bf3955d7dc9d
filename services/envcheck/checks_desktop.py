"""What the workbench's window needs from the desktop: a font with Chinese glyphs for the zh_CN interface."""
from __future__ import annotations

from services.envcheck.context import CheckContext
from services.envcheck.model import CheckResult, Fix
from services.envcheck.probe import Probe
from services.messages import msg


def check_cjk_font(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = msg("Chinese font")
    system = probe.system()
    if system == "windows":
        return CheckResult("cjk_font", title, "ok", msg("Windows ships Microsoft YaHei"))
    if system == "darwin":
        return CheckResult("cjk_font", title, "ok", msg("macOS ships PingFang"))
    fc = probe.which("fc-list")
    fix = Fix("command", msg("Install a CJK font: fonts-wqy-microhei (Debian/Ubuntu: sudo apt-get install -y "
                             "fonts-wqy-microhei) or fonts-noto-cjk"), command="sudo apt-get install -y fonts-wqy-microhei")
    if not fc:
        return CheckResult("cjk_font", title, "warn", msg("cannot tell: fc-list (fontconfig) is missing"),
                           msg("Without a CJK font the Chinese interface shows boxes instead of characters."), fix)
    r = probe.run([fc, ":lang=zh", "family"], timeout=10)
    families = sorted({f.split(",")[0].strip() for f in r.stdout.splitlines() if f.strip()}) if r.ok else []
    if not families:
        return CheckResult("cjk_font", title, "warn", msg("no font with Chinese characters"),
                           msg("The Chinese interface (Settings > Language: 简体中文) shows boxes instead of characters "
                               "until one is installed."), fix)
    return CheckResult("cjk_font", title, "ok", ", ".join(families[:3]) + (" …" if len(families) > 3 else ""))
