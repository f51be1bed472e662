"""Where a test run's CPU goes: the machine's busy share and CPU seconds by kind of process.

    python benchmarks/suite_cpu.py                      # the Makefile's pytest stage (-n auto --dist loadgroup)
    python benchmarks/suite_cpu.py -- pytest tests/browser -n 0 -q

Runs the command while reading /proc four times a second and reports, when it ends, the wall time,
the machine's mean busy share (a run near 100% is CPU-bound: more pytest workers cannot make it
faster, only less work can) and the CPU seconds of every process seen, grouped by kind: sandboxed
kernels (the slot users'), grading pool workers, each nbgrader subcommand, Chromium by process
type, the JupyterLab and JupyterHub servers, the pytest processes themselves. A process's CPU is
counted up to its last reading, so one that lives under a quarter of a second is missed and the
others lose at most their last quarter-second: the figures are a floor. What processes that were
already running use meanwhile is shown apart: the machine should be otherwise idle.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = [str(REPO / ".venv" / "bin" / "python"), "-m", "pytest", "tests", "-n", "auto", "--dist", "loadgroup", "-q"]
TICK = os.sysconf("SC_CLK_TCK")


def busy_nice_total() -> tuple[int, int, int]:
    """The machine's busy, niced and total jiffies so far (/proc/stat's first line; niced is part of busy)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4], values[1], sum(values)


def read_processes() -> dict[tuple[str, str], tuple[float, str, int, str]]:
    """(pid, start time) -> (CPU seconds so far, command line, uid, parent pid) for every process readable now."""
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rfind(")") + 2:].split()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            uid = int(Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            continue  # it ended between listing and reading
        found[(pid, fields[19])] = ((int(fields[11]) + int(fields[12])) / TICK, command, uid, fields[1])
    return found


def remember(last: dict, now: dict) -> None:
    """Update ``last`` with the readings ``now``, keeping a process's command line once it is a zombie (it has none)."""
    for key, (cpu, command, uid, parent) in now.items():
        if not command and key in last:
            command = last[key][1]
        last[key] = (cpu, command, uid, parent)


def kind(command: str, uid: int) -> str:
    """The group a process is reported under."""
    if not command:
        return "kernel threads and processes that ended unseen"
    if "import sys;exec(eval(sys.stdin.readline()))" in command:
        return "pytest-xdist workers (the tests' own code)"
    if uid != os.getuid():
        return "sandboxed: " + kind(command, os.getuid())
    if "chrom" in command:
        for process_type in ("renderer", "gpu-process", "utility", "zygote"):
            if f"--type={process_type}" in command:
                return f"chromium {process_type}"
        return "chromium browser"
    if "bwrap" in command:
        return "bubblewrap"
    if "multiprocessing" in command:
        return "grading pool workers (multiprocessing)"
    if "ipykernel" in command:
        return "kernels"
    for program in ("nbgrader", "jupyterhub", "jupyter-lab", "jupyter-server", "configurable-http-proxy",
                    "alembic", "postgres", "dask", "pytest"):
        if program in command:
            if program == "nbgrader" and " nbgrader " in f"{command} ":
                words = command.split()
                after = words[words.index("nbgrader") + 1:] if "nbgrader" in words else []
                return f"nbgrader {after[0]}" if after else "nbgrader"
            return program
    return "other: " + (command.split() or ["(no command line)"])[0].rsplit("/", 1)[-1][:40]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="*", help="the command to measure (after --), run in the current folder; "
                                                   "default: the pytest stage, in the repository")
    parser.add_argument("--every", type=float, default=0.25, help="seconds between readings of /proc")
    parser.add_argument("--output", type=Path, help="write the command's own output (stdout) to this file; "
                                                    "default: it is discarded")
    parser.add_argument("--commands", type=int, default=0, metavar="N",
                        help="also list the N command lines that used the most CPU in all, each with its "
                             "processes' parents (to find who starts, say, every alembic)")
    args = parser.parse_args(argv)
    command = args.command or DEFAULT
    before = read_processes()
    last = dict(before)
    busy0, nice0, total0 = busy_nice_total()
    started = time.monotonic()
    errors = tempfile.TemporaryFile(mode="w+")  # (a pipe read only at the end would fill and stop the command)
    output = open(args.output, "w") if args.output else subprocess.DEVNULL
    run = subprocess.Popen(command, cwd=None if args.command else REPO, stdout=output, stderr=errors)
    while run.poll() is None:
        remember(last, read_processes())
        time.sleep(args.every)
    remember(last, read_processes())
    wall = time.monotonic() - started
    busy1, nice1, total1 = busy_nice_total()
    groups: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    commands: dict[str, list] = defaultdict(lambda: [0.0, 0, defaultdict(int)])
    command_of = {pid: line for (pid, _), (_, line, _, _) in last.items()}
    for key, (cpu, line, uid, parent) in last.items():
        if key[0] == str(os.getpid()):
            groups["this sampler itself"][0] += cpu - before[key][0]
            continue
        if key in before:  # not the command's: shown apart, so a busy machine is seen to be busy
            if cpu - before[key][0] > 0:
                groups[f"(running before the command) {kind(line, uid)}"][0] += cpu - before[key][0]
            continue
        groups[kind(line, uid)][0] += cpu
        groups[kind(line, uid)][1] += 1
        shown = commands[line[:160]]
        shown[0] += cpu
        shown[1] += 1
        shown[2][command_of.get(parent, "?")[:100]] += 1
    cores = os.cpu_count() or 1
    print(f"command: {' '.join(command)}")
    print(f"exit status {run.returncode}; wall {wall:.1f} s on {cores} cores; machine busy "
          f"{100 * (busy1 - busy0) / max(1, total1 - total0):.0f}% "
          f"({(busy1 - busy0) / TICK:.0f} CPU-s of {(total1 - total0) / TICK:.0f}), of which niced "
          f"{(nice1 - nice0) / TICK:.0f} CPU-s (lowered processes: they run only on what the rest leave idle)")
    counted = sum(cpu for cpu, _ in groups.values())
    print(f"{'CPU-s':>8} {'share':>6} {'started':>8}  kind (processes seen: {counted:.0f} CPU-s)")
    for name, (cpu, count) in sorted(groups.items(), key=lambda item: -item[1][0]):
        if cpu >= 0.5:
            print(f"{cpu:8.1f} {100 * cpu / max(counted, 1e-9):5.1f}% {count:8d}  {name}")
    for line, (cpu, count, parents) in sorted(commands.items(), key=lambda item: -item[1][0])[:args.commands]:
        print(f"\n{cpu:8.1f} CPU-s in {count} processes: {line}")
        for parent, times in sorted(parents.items(), key=lambda item: -item[1])[:5]:
            print(f"{'':12}{times} started by: {parent}")
    if run.returncode:
        errors.seek(0)
        print(errors.read()[-3000:], file=sys.stderr)
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
