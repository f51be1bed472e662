"""What the OS boundary costs per kernel: start (until kernel_info replies) and shutdown, with and without it.

    .venv/bin/python benchmarks/sandbox_start.py [--runs 5]

Compares a plain ``jupyter_client`` kernel (``python3``, TCP), the sandboxed
kernel with only the OS boundary (``defence_in_depth=False``) and the sandboxed
kernel as graded (boundary and in-kernel protections, which import pandas).
Prints the median and the range of each, in seconds. A measurement, not a test.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

from jupyter_client.manager import AsyncKernelManager

from clientcare.instructor.sandbox import SandboxKernelManager


async def one(make, cwd: str) -> tuple[float, float]:
    started = time.perf_counter()
    manager = make()
    await manager.start_kernel(cwd=cwd)
    client = manager.client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    ready = time.perf_counter() - started
    client.stop_channels()
    stopping = time.perf_counter()
    await manager.shutdown_kernel(now=True)
    return ready, time.perf_counter() - stopping


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    kinds = {
        "plain kernel (python3)": lambda: AsyncKernelManager(kernel_name="python3"),
        "boundary only": lambda: SandboxKernelManager(kernel_name="python3", defence_in_depth=False),
        "boundary + in-kernel protections": lambda: SandboxKernelManager(kernel_name="python3"),
    }
    with tempfile.TemporaryDirectory() as cwd:
        loop = asyncio.new_event_loop()
        for name, make in kinds.items():
            loop.run_until_complete(one(make, cwd))  # warm the page cache
            times = [loop.run_until_complete(one(make, cwd)) for _ in range(runs)]
            starts, stops = [t[0] for t in times], [t[1] for t in times]
            print(f"{name:34s} start {statistics.median(starts):.3f} s ({min(starts):.3f}-{max(starts):.3f}), "
                  f"shutdown {statistics.median(stops):.3f} s ({min(stops):.3f}-{max(stops):.3f})")


if __name__ == "__main__":
    main()
