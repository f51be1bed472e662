"""What the OS boundary costs per kernel: start (until kernel_info replies) and shutdown, with and without it.

    .venv/bin/python benchmarks/sandbox_start.py [--runs 5]

Compares a plain ``jupyter_client`` kernel (``python3``, TCP), the sandboxed
kernel with only the OS boundary (``defence_in_depth=False``) and the sandboxed
kernel as graded (boundary and in-kernel protections, which import pandas).
Prints the median and the range of each, in seconds. A measurement, not a test.
``benchmarks/grading_throughput.py`` prints the same figures beside the grading times.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from jupyter_client.manager import KernelManager

from clientcare.instructor import sandbox
from clientcare.instructor.sandbox import SandboxKernelManager

KINDS = {
    "plain kernel (python3)": lambda: KernelManager(kernel_name="python3"),
    "boundary only": lambda: SandboxKernelManager(kernel_name="python3", defence_in_depth=False),
    "boundary + in-kernel protections": lambda: SandboxKernelManager(kernel_name="python3"),
}


def one(make, cwd: str) -> tuple[float, float]:
    """(seconds until the kernel answers, seconds to shut it down) for one kernel."""
    started = time.perf_counter()
    manager = make()
    manager.start_kernel(cwd=cwd)
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    ready = time.perf_counter() - started
    client.stop_channels()
    stopping = time.perf_counter()
    manager.shutdown_kernel(now=True)
    manager.cleanup_resources()
    return ready, time.perf_counter() - stopping


def measure(runs: int = 5) -> dict[str, tuple[float, float, float, float]]:
    """Per kind: (median start, median shutdown, fastest start, slowest start), in seconds.

    Slot users this creates (run as root) are removed afterwards.
    """
    before = set(sandbox.slot_users()) if os.geteuid() == 0 else set()
    figures = {}
    try:
        with tempfile.TemporaryDirectory() as cwd:
            for name, make in KINDS.items():
                one(make, cwd)  # warm the page cache
                times = [one(make, cwd) for _ in range(runs)]
                starts, stops = [t[0] for t in times], [t[1] for t in times]
                figures[name] = (statistics.median(starts), statistics.median(stops), min(starts), max(starts))
    finally:
        if os.geteuid() == 0:
            sandbox.remove_slot_users(names=[n for n in sandbox.slot_users() if n not in before])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    for name, (start, stop, fastest, slowest) in measure(parser.parse_args().runs).items():
        print(f"{name:34s} start {start:.3f} s ({fastest:.3f}-{slowest:.3f}), shutdown {stop:.3f} s")


if __name__ == "__main__":
    main()
