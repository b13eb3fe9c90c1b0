"""Shared pieces of the benchmarks: timing figures, subprocesses on loopback, the machine's description."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
LOOPBACK = "127.0.0.1"
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"


@dataclass(frozen=True)
class Figures:
    """One measured run: how many finished in how long, and their latencies (seconds)."""

    label: str
    count: int
    seconds: float
    latencies: tuple[float, ...] = ()
    server_cpu: float = 0.0  # CPU seconds the server process spent meanwhile (`measured_cpu`)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
        return ordered[index]

    @property
    def p50_ms(self) -> float:
        return self.percentile(50) * 1000

    @property
    def p99_ms(self) -> float:
        return self.percentile(99) * 1000

    @property
    def cpu_ms(self) -> float:
        """The server's CPU time per finished event: on two shared cores the clearer comparison, as the
        driver and the mock (or relay) are left out."""
        return self.server_cpu / self.count * 1000 if self.count else float("nan")


def cpu_seconds(pid: int) -> float:
    """CPU time of a process so far, all its threads (Linux /proc: each thread's schedstat, in
    nanoseconds; /proc/<pid>/stat counts in clock ticks of 10 ms, too coarse for a few hundred events)."""
    total = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        with contextlib.suppress(OSError, ValueError, IndexError):  # a thread that has just ended
            total += int(stat.read_text().split()[0])
    return total / 1e9


async def measured_cpu(pid: int, run: Awaitable[Figures]) -> Figures:
    """``run``'s figures with the CPU time process ``pid`` spent while it ran."""
    before = cpu_seconds(pid)
    figures = await run
    return replace(figures, server_cpu=cpu_seconds(pid) - before)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


async def wait_port(
    port: int, *, timeout: float = 60.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process serving port {port} exited with {process.returncode}")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection(LOOPBACK, port)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"nothing listened on {LOOPBACK}:{port} within {timeout}s")


def child_env(**settings: str) -> dict[str, str]:
    """The environment for a child: ours without REGBOT_/SLACK_ settings, plus ``settings``."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("REGBOT_", "SLACK_"))}
    return {**keep, "PYTHONPATH": str(ROOT), **settings}


@contextlib.contextmanager
def child(
    args: Sequence[str], env: dict[str, str], log: Path, cwd: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess for the length of the block; SIGTERM (then SIGKILL) at the end."""
    with log.open("ab") as out:
        process = subprocess.Popen(list(args), env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
    try:
        yield process
    finally:
        stop_child(process)


def stop_child(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MB, from /proc."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = float(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def machine() -> dict[str, str]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    return {
        "nproc": str(os.cpu_count() or 0),
        "cpu": model or platform.processor() or "unknown",
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


ROUNDS = 3
"""Each comparison runs this many times, the bare framework and regbot alternating: on a small shared
machine one run of either can be off by half, and alternating keeps both under the same conditions."""


def median_run(runs: Sequence[Figures]) -> Figures:
    """The run with the median throughput."""
    return sorted(runs, key=lambda run: run.rate)[len(runs) // 2]


@dataclass(frozen=True)
class Rounds:
    """The alternating runs of one comparison; the table shows the median run of each side and the
    median of the per-round ratios, with their range."""

    bare: tuple[Figures, ...]
    ours: tuple[Figures, ...]

    @property
    def bare_median(self) -> Figures:
        return median_run(self.bare)

    @property
    def ours_median(self) -> Figures:
        return median_run(self.ours)

    def _ratios(self, value: Callable[[Figures], float]) -> list[float]:
        pairs = zip(self.ours, self.bare, strict=True)
        return sorted(value(ours) / value(bare) for ours, bare in pairs if value(bare) > 0)

    def throughput_ratio(self) -> str:
        ratios = self._ratios(lambda run: run.rate)
        if not ratios:
            return "n/a"
        middle = ratios[len(ratios) // 2]
        return f"{middle * 100:.0f} % ({ratios[0] * 100:.0f}–{ratios[-1] * 100:.0f} %)"

    def p99_ratio(self) -> str:
        ratios = self._ratios(lambda run: run.p99_ms)
        if not ratios:
            return "n/a"
        return f"{ratios[len(ratios) // 2]:.1f}× ({ratios[0]:.1f}–{ratios[-1]:.1f}×)"

    def cpu(self) -> str:
        """Median server CPU per event of each side, and regbot's as a multiple of the bare one's."""
        bare = sorted(run.cpu_ms for run in self.bare)[len(self.bare) // 2]
        ours = sorted(run.cpu_ms for run in self.ours)[len(self.ours) // 2]
        if not (bare > 0 and ours > 0):  # NaN (nothing finished) or nothing measured
            return "n/a"
        return f"{bare:.2f} / {ours:.2f} ms ({ours / bare:.1f}×)"
