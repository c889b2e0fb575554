"""Run one spec in a fresh ``python -m benchmarks.peers.worker`` process, under a memory cap.

The parent polls the child's resident memory (``/proc/<pid>/status``, VmRSS) every 50 ms and
kills it above ``cap_gb`` (the machine is shared: no run may take more than 8 GB), and kills
it after ``timeout_s``. Returns the worker's JSON plus ``process_s`` (whole process wall time,
imports included) and ``status`` (``ok``, ``failed``, ``memory cap``, ``timeout``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def rss_gb(pid: int) -> float:
    """Resident memory of process ``pid`` in GB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e9
    except (OSError, ValueError):
        pass
    return 0.0


def run_spec(spec: dict, cap_gb: float = 8.0, timeout_s: float = 600.0) -> dict:
    """Measurements of one spec (see the module docstring)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.peers.worker", json.dumps(spec)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    status, peak = "ok", 0.0
    while proc.poll() is None:
        peak = max(peak, rss_gb(proc.pid))
        if peak > cap_gb:
            status = "memory cap"
        elif time.perf_counter() - t0 > timeout_s:
            status = "timeout"
        if status != "ok":
            proc.kill()
            break
        time.sleep(0.05)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    result = dict(spec=spec, process_s=wall, status=status)
    if status == "ok":
        try:
            result.update(json.loads(out.strip().splitlines()[-1]))
        except (ValueError, IndexError):
            result.update(status="failed", error=err.strip()[-800:])
    else:
        result["peak_rss_gb"] = peak
    return result
