import os
import subprocess
import sys
import time

from services.telemetry.gpu import NvmlReader
from services.telemetry.host import HostSample, tree_rss
from services.telemetry.ring import Ring
from services.telemetry.sampler import Sampler
from tests.fakes.nvml import GIB, FakeNvml, rtx2080ti, rtx4090


def test_ring_keeps_the_newest():
    r = Ring(capacity=3)
    for i in range(5):
        r.append(float(i), i * 10.0)
    assert r.snapshot() == ([2.0, 3.0, 4.0], [20.0, 30.0, 40.0])
    assert r.last() == 40.0 and len(r) == 3


def test_nvml_reader_reads_every_gpu():
    fake = FakeNvml([rtx4090(procs=[(1234, 3 * GIB)]), rtx2080ti()])
    gpus = NvmlReader(fake).devices()
    assert [g.name for g in gpus] == ["NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 2080 Ti"]
    assert gpus[0].memory_total == 24 * GIB and gpus[0].power_w == 120.0
    assert gpus[0].processes[0].pid == 1234
    assert gpus[1].power_w is None  # "Not Supported" is not an error
    assert gpus[1].compute_capability == (7, 5)


def test_no_driver_is_a_reason_not_a_crash():
    r = NvmlReader(FakeNvml(fail_init="NVML Shared Library Not Found"))
    assert not r.available and "no NVIDIA driver" in r.reason
    assert r.devices() == []
    empty = NvmlReader(FakeNvml([]))
    assert not empty.available and "no NVIDIA GPU" in empty.reason


def fake_host():
    return HostSample(cpu_percent=12.5, ram_used=8 * GIB, ram_total=24 * GIB)


def test_sampler_fills_series_from_fake_sources():
    fake = FakeNvml([rtx4090()])
    ticks = iter(range(100))
    s = Sampler(gpu=NvmlReader(fake), host=fake_host, clock=lambda: float(next(ticks)))
    s.sample_once()
    fake.gpus[0]["used"] = 10 * GIB
    s.sample_once()
    assert s.series("gpu0.mem_used").snapshot() == ([0.0, 1.0], [2 * GIB, 10 * GIB])
    assert s.series("gpu0.util").last() == 35
    assert s.series("host.ram_used").last() == 8 * GIB
    assert s.gpu_reason == ""


def test_sampler_without_gpu_samples_the_host():
    s = Sampler(gpu=NvmlReader(FakeNvml(fail_init="Driver Not Loaded")), host=fake_host)
    s.sample_once()
    assert not any(n.startswith("gpu") for n in s.names())
    assert "Driver Not Loaded" in s.gpu_reason


def test_sampler_thread_runs_at_its_rate_and_stops():
    s = Sampler(rate_hz=20, gpu=NvmlReader(FakeNvml([])), host=fake_host).start()
    time.sleep(0.5)
    s.stop()
    assert not s.running
    assert 5 <= len(s.series("host.cpu")) <= 12
    n = len(s.series("host.cpu"))
    time.sleep(0.15)
    assert len(s.series("host.cpu")) == n  # stopped means stopped


def test_job_tree_rss_counts_children():
    child = subprocess.Popen([sys.executable, "-c",
                              "import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', "
                              "'import time; x = bytearray(50_000_000); time.sleep(30)']); time.sleep(30)"])
    try:
        deadline = time.time() + 20
        rss = 0
        while time.time() < deadline:
            rss = tree_rss(child.pid) or 0
            if rss > 50_000_000:
                break
            time.sleep(0.1)
        assert rss > 50_000_000  # the grandchild's 50 MB is included
        s = Sampler(gpu=NvmlReader(FakeNvml([])), host=fake_host)
        s.job_pid = child.pid
        s.sample_once()
        assert s.series("job.rss").last() > 50_000_000
    finally:
        import psutil
        for p in psutil.Process(child.pid).children(recursive=True):
            p.kill()
        child.kill()
        child.wait()
    assert tree_rss(child.pid) is None


def test_real_nvml_on_this_machine():
    """CI has no GPU: NVML says why. On a GPU machine set QUANTDESK_EXPECT_GPU=1."""
    r = NvmlReader()
    if os.environ.get("QUANTDESK_EXPECT_GPU"):
        assert r.available and r.devices()
    else:
        assert not r.available and "NVML" in r.reason and r.devices() == []


def test_process_tree_rescans_for_children_only_now_and_then():
    from services.telemetry.host import ProcessTree

    now = [0.0]
    tree = ProcessTree(os.getpid(), rescan_s=5.0, clock=lambda: now[0])
    before = tree.rss()
    child = subprocess.Popen([sys.executable, "-c", "x = bytearray(80_000_000); import time; time.sleep(30)"])
    try:
        deadline = time.time() + 20
        import psutil

        while psutil.Process(child.pid).memory_info().rss < 80_000_000 and time.time() < deadline:
            time.sleep(0.05)
        now[0] = 1.0
        assert tree.rss() < before + 40_000_000  # not rescanned yet: the new child is not counted
        now[0] = 6.0
        assert tree.rss() > before + 70_000_000  # rescanned: it is
    finally:
        child.kill()
        child.wait()
    assert ProcessTree(999_999_999).rss() is None
