"""Windows: a Job Object with KILL_ON_JOB_CLOSE, so job processes die when QuantDesk does.

The handle lives as long as this process; when it exits (even killed), Windows closes the handle
and terminates every process assigned to the job. `kernel32` is injectable for tests on Linux.
"""
from __future__ import annotations

import ctypes
import logging

log = logging.getLogger("quantdesk.runtime")

JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
PROCESS_SET_QUOTA, PROCESS_TERMINATE = 0x0100, 0x0001


class _BasicLimits(ctypes.Structure):
    _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                ("LimitFlags", ctypes.c_uint32), ("MinimumWorkingSetSize", ctypes.c_size_t),
                ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", ctypes.c_uint32),
                ("Affinity", ctypes.c_size_t), ("PriorityClass", ctypes.c_uint32),
                ("SchedulingClass", ctypes.c_uint32)]


class _IoCounters(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in ("ReadOps", "WriteOps", "OtherOps", "ReadBytes", "WriteBytes",
                                               "OtherBytes")]


class _ExtendedLimits(ctypes.Structure):
    _fields_ = [("BasicLimitInformation", _BasicLimits), ("IoInfo", _IoCounters),
                ("ProcessMemoryLimit", ctypes.c_size_t), ("JobMemoryLimit", ctypes.c_size_t),
                ("PeakProcessMemoryUsed", ctypes.c_size_t), ("PeakJobMemoryUsed", ctypes.c_size_t)]


class KillOnCloseJob:
    """One Job Object per QuantDesk process; `assign(pid)` ties a child to it."""

    def __init__(self, kernel32=None):
        self._k = kernel32 if kernel32 is not None else ctypes.WinDLL("kernel32", use_last_error=True)
        self.handle = self._k.CreateJobObjectW(None, None)
        if not self.handle:
            raise OSError("CreateJobObjectW failed")
        info = _ExtendedLimits()
        info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        if not self._k.SetInformationJobObject(self.handle, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
                                               ctypes.byref(info), ctypes.sizeof(info)):
            raise OSError("SetInformationJobObject failed")

    def assign(self, pid: int) -> bool:
        proc = self._k.OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, False, pid)
        if not proc:
            return False
        try:
            return bool(self._k.AssignProcessToJobObject(self.handle, proc))
        finally:
            self._k.CloseHandle(proc)


_job: KillOnCloseJob | None = None


def tie_to_this_process(pid: int, kernel32=None) -> bool:
    """Make `pid` die with this process (Windows). False when it could not be done (logged)."""
    global _job
    try:
        if _job is None or kernel32 is not None:
            _job = KillOnCloseJob(kernel32)
        ok = _job.assign(pid)
    except OSError as exc:
        log.warning("could not tie process %d to a job object: %s", pid, exc)
        return False
    if not ok:
        log.warning("could not assign process %d to the job object", pid)
    return ok
