"""Plumbing shared by the benchmarks in bench/: a live uvicorn, Debian's Chromium, statistics.

Not a benchmark itself (`make bench` runs bench/bench_*.py only). The benchmarks run as
scripts (`.venv/bin/python bench/bench_x.py`), so Python puts bench/ on sys.path and they
simply `import harness`. Importing this module also puts the repository root on sys.path, so
`app` (and the browser tests' Chromium flags) import even without the editable install.

- `live_server()`: `uvicorn app.main:app` on a free loopback port; yields the base URL once
  /api/v1/limits answers 200, and stops the server on exit.
- `chromium(playwright)`: Debian's Chromium (`$BITMESH_CHROMIUM`, else /usr/bin/chromium;
  never a downloaded browser) launched with `CHROMIUM_ARGS`, the browser tests' own flags.
- `percentiles(samples)`: p50 (the median) and p95; `load_average()`: the 1-minute load.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# One list of flags for the browser tests and the benchmarks: measure the browser we test.
from tests.browser.conftest import ARGS as CHROMIUM_ARGS  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

__all__ = [
    "CHROMIUM_ARGS",
    "ROOT",
    "chromium",
    "chromium_executable",
    "free_port",
    "live_server",
    "load_average",
    "percentile",
    "percentiles",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("uvicorn exited early")
        try:
            if httpx.get(f"{base}/api/v1/limits", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("uvicorn did not start")


@contextmanager
def live_server(
    timeout: float = 30.0, root: Path = ROOT, uvicorn_args: tuple[str, ...] = ()
) -> Iterator[str]:
    """Run `uvicorn app.main:app` from `root` on a free port; yield its base URL once it answers.

    `uvicorn_args` adds options, e.g. ``("--loop", "asyncio", "--http", "h11")`` for the
    pure-Python stack.
    """
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            *("-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"),
            *("--port", str(port), "--log-level", "warning", *uvicorn_args),
        ],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, proc, timeout)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def chromium_executable() -> str:
    """Debian's Chromium: `$BITMESH_CHROMIUM`, else /usr/bin/chromium."""
    return os.environ.get("BITMESH_CHROMIUM", "/usr/bin/chromium")


def chromium(playwright: Playwright) -> Browser:
    """Launch Debian's Chromium headless with the browser tests' flags."""
    return playwright.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)


def percentile(samples: Iterable[float], q: float) -> float:
    """The sample at rank `q * (n - 1)` (rounded down) of the sorted samples."""
    ordered = sorted(samples)
    return ordered[int(q * (len(ordered) - 1))]


def percentiles(samples: Iterable[float], ndigits: int = 3) -> dict[str, float]:
    """`{"p50": median, "p95": ...}`, each rounded to `ndigits` decimals."""
    values = list(samples)
    return {
        "p50": round(statistics.median(values), ndigits),
        "p95": round(percentile(values, 0.95), ndigits),
    }


def load_average() -> float | None:
    """The 1-minute load average, to 2 decimals (None where the OS has none)."""
    if not hasattr(os, "getloadavg"):
        return None
    return round(os.getloadavg()[0], 2)
