"""The machine a benchmark ran on: CPU, memory, disk, database and Python versions, time of day.

Every benchmark prints these beside its figures, because the figures mean nothing without them.
Run alone: `python bench/machine.py`.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import psycopg

from database import POSTGRES_SERVER
from reliefops.env import VAR_DIR


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _virtualised() -> bool:
    try:
        return " hypervisor" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _disk(path: Path) -> str:
    """The block device holding `path`: name, size, whether it reports itself rotational, file system."""
    path.mkdir(parents=True, exist_ok=True)
    device = os.stat(path).st_dev
    sys_dir = Path(f"/sys/dev/block/{os.major(device)}:{os.minor(device)}")
    name = "unknown device"
    details = []
    try:
        resolved = sys_dir.resolve()
        name = resolved.name
        queue = resolved / "queue" if (resolved / "queue").exists() else resolved.parent / "queue"
        rotational = (queue / "rotational").read_text().strip()
        details.append("reports rotational" if rotational == "1" else "solid state")
        sectors = int((resolved / "size").read_text())
        details.append(f"{sectors * 512 / 1024**3:.0f} GiB")
    except (OSError, ValueError):
        pass
    fs_type = "?"
    best = ""
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            _, mount, kind, *_ = line.split()
            if str(path.resolve()).startswith(mount) and len(mount) > len(best):
                best, fs_type = mount, kind
    except OSError:
        pass
    details.append(fs_type)
    return f"{name} ({', '.join(details)})"


def fsync_latency_ms(directory: Path, rounds: int = 100) -> float:
    """Median time of a 4 KiB write + fsync in `directory`: the floor under every durable commit."""
    directory.mkdir(parents=True, exist_ok=True)
    times = []
    with tempfile.NamedTemporaryFile(dir=directory) as handle:
        block = b"x" * 4096
        for _ in range(rounds):
            start = time.perf_counter()
            handle.write(block)
            handle.flush()
            os.fsync(handle.fileno())
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _postgres() -> str:
    try:
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", connect_timeout=5) as conn:
            values = {
                name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                for name in (
                    "server_version",
                    "shared_buffers",
                    "synchronous_commit",
                    "fsync",
                    "work_mem",
                    "max_parallel_workers_per_gather",
                )
            }
    except psycopg.Error as exc:
        return f"not reachable ({exc.__class__.__name__})"
    version = values.pop("server_version")
    return f"{version} ({', '.join(f'{k}={v}' for k, v in values.items())})"


def _commit() -> str:
    """The project's commit, and whether the code under src/ differs from it (a shared checkout)."""
    root = Path(__file__).resolve().parent.parent
    git = shutil.which("git")
    if git is None:
        return "unknown"
    try:
        head = subprocess.run(  # noqa: S603 - git with fixed arguments
            [git, "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(  # noqa: S603 - git with fixed arguments
            [git, "status", "--porcelain", "--", "src"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (src/ has uncommitted changes)" if changed else "")


def speed_probe(rounds: int = 3) -> float:
    """Seconds (median of `rounds`) for a fixed piece of Python work of the kind an import does over
    a large heap: 300,000 rows made as tuples of text and numbers, hashed, put in a dictionary and
    sorted. A larger figure in the same run says the machine itself was slower at that moment (a
    shared host: its memory and caches as much as its cores), and the figures timed beside it are
    slower by about as much."""
    import hashlib

    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        rows = [(f"R{n:07d}", n % 13, n % 977) for n in range(300_000)]
        index = {row[0]: row for row in rows}
        digests = [hashlib.blake2b(row[0].encode(), digest_size=8).digest() for row in rows[::4]]
        rows.sort(key=lambda row: (row[2], row[1]))
        times.append(time.perf_counter() - started)
        del rows, index, digests
    return statistics.median(times)


def facts() -> dict[str, str]:
    """The machine facts, in print order."""
    now = dt.datetime.now().astimezone()
    load = os.getloadavg()
    return {
        "time": f"{now:%Y-%m-%d %H:%M %Z} (UTC {now.astimezone(dt.UTC):%H:%M})",
        "cpu": f"{_cpu_model()}, {os.cpu_count()} cores" + (", virtual machine" if _virtualised() else ""),
        "load average (1/5/15 min)": f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}",
        "memory": _memory_gib(),
        "disk": _disk(VAR_DIR),
        "fsync of a 4 KiB write (median)": f"{fsync_latency_ms(VAR_DIR):.2f} ms",
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "django": metadata.version("django"),
        "sqlite": sqlite3.sqlite_version,
        "psycopg": metadata.version("psycopg"),
        "postgresql": _postgres(),
        "reliefops commit": _commit(),
    }


def print_facts(title: str = "Machine") -> dict[str, str]:
    found = facts()
    print(f"== {title} ==")
    width = max(len(key) for key in found)
    for key, value in found.items():
        print(f"  {key:<{width}}  {value}")
    return found


if __name__ == "__main__":
    print_facts()
