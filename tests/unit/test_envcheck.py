"""The doctor's checks against fake machines: each scenario asserts the status and the fix offered."""
import json

import pytest

from services.envcheck.context import CheckContext
from services.envcheck.probe import NvidiaInfo, RunResult
from services.envcheck.runner import run_checks
from tests.fakes.probe import (
    MSVC_BIN,
    NVCC,
    RTX2080TI,
    RTX4090,
    VCVARS,
    FakeProbe,
    healthy_windows,
    msvc_captured,
    with_packages,
)

CTX = CheckContext(output_dir=r"D:\模型 输出", msvc_env=msvc_captured())


def report(probe, ctx=CTX):
    return run_checks(probe, ctx)


def test_healthy_windows_box_is_all_green():
    r = report(healthy_windows())
    bad = {c.id: (c.status, c.summary) for c in r.checks if c.status in ("warn", "fail")}
    assert bad == {}
    assert r.by_id("nvidia").summary.startswith("driver 560.94, 1 GPU(s): NVIDIA GeForce RTX 4090")
    assert r.by_id("cl_arch").summary.startswith("x64 compiler")
    assert r.by_id("windows_sdk").summary == "Windows SDK 10.0.22621.0"
    assert r.by_id("compiler").status == "skip"  # the MSVC checks cover Windows
    assert r.by_id("cuda_toolkit").summary == "nvcc 12.6"


def test_without_nvcc_it_says_where_it_is_needed():
    p = healthy_windows()
    p.files.discard(NVCC)
    c = report(p).by_id("cuda_toolkit")
    assert c.status == "warn" and "nvcc not found" in c.summary
    assert "12.6" in c.fix.label


def test_nvcc_version_against_torch():
    p = healthy_windows(env={"CUDA_PATH": r"C:\Program Files\NVIDIA GPU Computing Toolkit\CUDA\v11.8",
                             "ProgramFiles(x86)": r"C:\Program Files (x86)"})
    nvcc = r"C:\Program Files\NVIDIA GPU Computing Toolkit\CUDA\v11.8\bin\nvcc.exe"
    p.files.add(nvcc)
    p.commands[nvcc] = RunResult(0, "Cuda compilation tools, release 11.8, V11.8.89\n")
    c = report(p).by_id("cuda_toolkit")
    assert c.status == "fail" and "nvcc 11.8 but torch was built with CUDA 12.6" in c.summary


def test_msvc_not_captured_offers_the_capture_action():
    c = report(healthy_windows(), CheckContext(output_dir="D:/out")).by_id("msvc")
    assert c.status == "warn"
    assert c.fix.kind == "action" and c.fix.action == "capture_msvc" and c.fix.args == [VCVARS]


def test_x86_cl_first_on_path():
    p = healthy_windows()
    p.path_cmds["cl"] = MSVC_BIN + r"\Hostx86\x86\cl.exe"
    c = report(p).by_id("cl_arch")
    assert c.status == "fail"
    assert "size_t" in c.details
    assert c.fix.action == "capture_msvc"


def test_missing_windows_sdk_headers():
    p = healthy_windows()
    p.files = {f for f in p.files if not f.endswith(".h")}
    c = report(p).by_id("windows_sdk")
    assert c.status == "fail" and "corecrt.h" in c.summary
    assert "Windows11SDK" in c.fix.command


def test_no_visual_studio_at_all():
    p = healthy_windows()
    p.files.clear()
    c = report(p).by_id("msvc")
    assert c.status == "fail" and "vswhere.exe not found" in c.details
    assert "Microsoft.VisualStudio.Workload.VCTools" in c.fix.command


def test_no_ninja():
    p = healthy_windows()
    del p.path_cmds["ninja"]
    c = report(p).by_id("ninja")
    assert c.status == "fail" and "Ninja is required" in c.details
    assert c.fix.action == "pip_install" and c.fix.args == ["ninja"] and c.fix.command == "pip install ninja"


def test_2080ti_with_flash_attn_2():
    p = healthy_windows(nvidia=NvidiaInfo(driver="560.94", cuda_driver="12.6", gpus=[RTX2080TI]))
    c = report(p).by_id("flash_attn")
    assert c.status == "fail" and "sm_80+" in c.summary and "sm_75" in c.summary
    assert "SDPA" in c.details and "1.0.9" in c.details
    assert c.fix.command == "pip uninstall -y flash-attn"


def test_2080ti_without_flash_attn_uses_sdpa():
    p = with_packages(healthy_windows(nvidia=NvidiaInfo(driver="560.94", cuda_driver="12.6", gpus=[RTX2080TI])),
                      **{"flash-attn": None, "flash_attn_import": None})
    c = report(p).by_id("flash_attn")
    assert c.status == "ok" and "SDPA" in c.summary


def test_cpu_only_torch_on_a_machine_with_a_gpu():
    p = with_packages(healthy_windows(), torch="2.13.0+cpu", torch_cuda=None, torch_arch_list=[])
    c = report(p).by_id("torch")
    assert c.status == "fail" and "CPU build" in c.summary and "RTX 4090" in c.summary
    assert c.fix.command == "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"


def test_driver_too_old_for_torch_cuda():
    p = healthy_windows(nvidia=NvidiaInfo(driver="516.94", cuda_driver="11.7", gpus=[RTX4090]))
    c = report(p).by_id("torch")
    assert c.status == "fail" and "driver 516.94 supports CUDA 11.7" in c.summary
    assert "Update the NVIDIA driver" in c.fix.label


def test_newer_minor_cuda_than_driver_is_a_warning():
    p = healthy_windows(nvidia=NvidiaInfo(driver="555.85", cuda_driver="12.5", gpus=[RTX4090]))
    p = with_packages(p, torch="2.13.0+cu128", torch_cuda="12.8")
    c = report(p).by_id("torch")
    assert c.status == "warn" and "minor-version compatibility" in c.details


def test_torch_without_kernels_for_the_gpu():
    p = with_packages(healthy_windows(), torch_arch_list=["sm_50", "sm_60", "sm_70"])
    c = report(p).by_id("torch")
    assert c.status == "fail" and "no kernels" in c.summary


def test_no_gpu_at_all():
    p = healthy_windows(nvidia=NvidiaInfo(reason="NVML Shared Library Not Found"))
    p = with_packages(p, torch="2.13.0+cpu", torch_cuda=None, torch_arch_list=[])
    r = report(p)
    assert r.by_id("nvidia").status == "warn" and r.by_id("nvidia").summary == "no NVIDIA GPU found"
    assert "NVML Shared Library Not Found" in r.by_id("nvidia").details
    assert r.by_id("torch").status == "ok"  # a CPU build is right without a GPU
    assert r.by_id("cuda_toolkit").status == "skip"
    assert r.by_id("flash_attn").status == "skip"
    assert all(c.status != "fail" for c in r.checks)


def test_long_paths_disabled():
    p = healthy_windows(registry={})
    c = report(p).by_id("long_paths")
    assert c.status == "warn" and "LongPathsEnabled" in c.fix.command


def test_python_32_bit_and_no_venv():
    p = healthy_windows(python={"bits": 32})
    assert report(p).by_id("python").status == "fail"
    p = healthy_windows(python={"prefix": r"C:\Python311", "base_prefix": r"C:\Python311"})
    c = report(p).by_id("venv")
    assert c.status == "warn" and r".venv\Scripts\activate" in c.fix.command


def test_autoawq_missing_and_transformers_untested():
    p = with_packages(healthy_windows(), autoawq=None, transformers="4.51.3")
    r = report(p)
    assert r.by_id("autoawq").status == "fail" and r.by_id("autoawq").fix.args == ["autoawq==0.2.9"]
    assert r.by_id("transformers").status == "warn" and "5.17.0" in r.by_id("transformers").fix.command


def test_disk_space_thresholds():
    assert report(healthy_windows(disk_free=3 * 10**9)).by_id("disk").status == "fail"
    assert report(healthy_windows(disk_free=12 * 10**9)).by_id("disk").status == "warn"
    assert "D:\\模型 输出" in report(healthy_windows()).by_id("disk").summary


def test_hub_unreachable_offers_a_mirror_or_offline_mode():
    p = healthy_windows(http={"https://huggingface.co": "URLError: timed out"})
    c = report(p).by_id("hub")
    assert c.status == "warn" and c.fix.kind == "env" and c.fix.env == {"HF_ENDPOINT": "https://hf-mirror.com"}
    p = healthy_windows(http={"https://huggingface.co": "x", "https://www.modelscope.cn": "y"})
    assert report(p).by_id("hub").fix.env == {"HF_HUB_OFFLINE": "1"}
    p = healthy_windows(env={"HF_HUB_OFFLINE": "1"})
    assert report(p).by_id("hub").summary.startswith("offline mode")


def test_linux_slot_checks_gcc():
    p = FakeProbe(system="linux", path_cmds={"gcc": "/usr/bin/gcc", "g++": "/usr/bin/g++"},
                  commands={"/usr/bin/g++ --version": RunResult(0, "g++ (Debian 12.2.0-14) 12.2.0\n")})
    r = report(p)
    assert r.by_id("compiler").status == "ok" and "12.2.0" in r.by_id("compiler").summary
    assert r.by_id("msvc").status == "skip" and r.by_id("windows_sdk").status == "skip"
    del p.path_cmds["g++"]
    assert report(p).by_id("compiler").status == "fail"


def test_a_crashing_or_hanging_check_becomes_a_result(monkeypatch, logfail):
    import time

    logfail.allow("check a crashed")  # the runner logs the crash with its traceback, on purpose

    from services.envcheck import runner

    def boom(probe, ctx):
        raise KeyError("registry")

    def slow(probe, ctx):
        time.sleep(2)

    monkeypatch.setattr(runner, "CHECKS", [("a", "A", boom), ("b", "B", slow)])
    t0 = time.monotonic()
    r = runner.run_checks(healthy_windows(), CTX, timeout=0.3)
    assert time.monotonic() - t0 < 1.5
    assert r.by_id("a").status == "warn" and "KeyError" in r.by_id("a").summary
    assert r.by_id("b").status == "warn" and r.by_id("b").summary.startswith("timed out after")


def test_progress_and_markdown_report():
    seen = []
    r = run_checks(healthy_windows(), CheckContext(output_dir="D:/out"), progress=lambda d, t, m: seen.append((d, t)))
    assert seen[0] == (0, len(r.checks)) and seen[-1] == (len(r.checks), len(r.checks))
    md = r.to_markdown()
    assert md.startswith("# QuantDesk environment report") and "| ⚠️ | Visual Studio C++ x64 build tools |" in md
    assert "Capture the MSVC x64 environment" in md
    json.dumps(r.to_dict(), ensure_ascii=False)


def test_probe_error_is_reported_not_raised():
    p = healthy_windows(packages={"probe_error": "the package probe timed out after 60 s"})
    c = report(p).by_id("torch")
    assert c.status == "warn" and "timed out" in c.details


@pytest.mark.parametrize("check_id", ["python", "nvidia", "torch", "ninja", "disk", "hub"])
def test_every_check_has_a_title_and_summary(check_id):
    c = report(healthy_windows()).by_id(check_id)
    assert c.title and c.summary


def test_a_linux_desktop_without_a_cjk_font_is_warned_with_the_package_to_install():
    from services.envcheck.checks_desktop import check_cjk_font
    from services.envcheck.probe import RunResult
    from tests.fakes.probe import FakeProbe

    ctx = None
    none = FakeProbe(system="linux", path_cmds={"fc-list": "/usr/bin/fc-list"},
                     commands={"/usr/bin/fc-list": RunResult(0, "")})
    r = check_cjk_font(none, ctx)
    assert r.status == "warn" and "boxes" in r.details and "fonts-wqy-microhei" in r.fix.label and r.fix.kind == "command"
    some = FakeProbe(system="linux", path_cmds={"fc-list": "/usr/bin/fc-list"},
                     commands={"/usr/bin/fc-list": RunResult(0, "WenQuanYi Micro Hei,文泉驿微米黑\nNoto Sans CJK SC\n")})
    r = check_cjk_font(some, ctx)
    assert r.status == "ok" and r.summary == "Noto Sans CJK SC, WenQuanYi Micro Hei"
    assert check_cjk_font(FakeProbe(system="windows"), ctx).status == "ok"
    assert check_cjk_font(FakeProbe(system="linux"), ctx).status == "warn"  # no fontconfig: cannot tell
