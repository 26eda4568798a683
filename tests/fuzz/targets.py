"""The listeners under fuzz, each running as the real command in a thread of this process.

``run --target listen`` and ``serve`` run through :func:`harness.cli.main` (so their exit
status is the one a user gets); the recording proxy runs on its own event loop in a thread,
in front of a ``listen`` target. Cases: per OCPP version, a ``clear_profile`` exchange and a
long ``wait`` — the wait ends when the station's connection closes, so each connection the
fuzzer loses moves the run to its next case, and closing at the end finishes the run.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.cli import main
from harness.clock import ScaledClock
from harness.proxy.server import RecordingProxy
from harness.results import Manifest, RunReader, RunStore, new_run_id

CAPS = Path(__file__).parents[1] / "lab" / "sim-station.yaml"
WAIT_S = 60.0
"""Bound on starting and stopping a target."""


def case_file(folder: Path, *, version: str, count: int, prefix: str, wait_s: float = 600) -> Path:
    """``count`` cases for OCPP ``version``: a ClearChargingProfile, then a wait."""
    text = "".join(
        f"""
- id: {prefix}{n:02d}
  title: fuzz target case {n}
  suite: fuzz
  ocpp_versions: ["{version}"]
  dut_role: station
  steps:
    - {{kind: clear_profile, expect: {{status: {{one_of: [Accepted, Unknown]}}}}}}
    - {{kind: wait, duration_s: {wait_s:g}}}
"""
        for n in range(count)
    )
    path = folder / f"{prefix}.yaml"
    path.write_text(text)
    return path


def free_port() -> int:
    """A port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(port: int) -> None:
    """Return once something accepts TCP connections on ``port`` (bounded)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {WAIT_S:g} s")


@dataclass
class Command:
    """``main(argv)`` in a thread; :attr:`code` once it returned."""

    argv: Sequence[str]
    code: int | None = None
    error: BaseException | None = None
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._main, name="fuzz-target", daemon=True)
        self.thread.start()

    def _main(self) -> None:
        try:
            self.code = main(list(self.argv))
        except BaseException as exc:  # reported by the test
            self.error = exc

    @property
    def alive(self) -> bool:
        """True while the command runs."""
        return self.thread.is_alive()

    def wait(self) -> int:
        """Its exit code (bounded wait); raises what it raised."""
        self.thread.join(WAIT_S)
        if self.thread.is_alive():
            raise TimeoutError(f"{self.argv[0]} did not end within {WAIT_S:g} s")
        if self.error is not None:
            raise self.error
        assert self.code is not None
        return self.code


def listen(folder: Path, *, station_id: str, cases: int = 40) -> tuple[Command, int]:
    """``run --target listen`` for ``cases`` OCPP 1.6 cases (each connection the station
    loses ends one), its run belonging to ``station_id``."""
    port = free_port()
    case_path = case_file(folder, version="1.6", count=cases, prefix="L")
    argv = ["run", str(case_path), "--target", "listen", f"127.0.0.1:{port}"]
    argv += ["--capabilities", str(CAPS), "--unattended", "--station-id", station_id]
    argv += ["--connect-timeout", "60", "--reconnect-timeout", "3", "--out", str(folder / "runs")]
    command = Command(argv)
    wait_listening(port)
    return command, port


def serve(folder: Path, *, good: str, fuzz: str, cases: int = 40) -> tuple[Command, int]:
    """``serve`` for two stations: ``good`` (OCPP 1.6, one quick case) and ``fuzz``
    (OCPP 2.0.1, long cases); no other id has a declaration."""
    port = free_port()
    quick = case_file(folder, version="1.6", count=1, prefix="Q", wait_s=0)
    long = case_file(folder, version="2.0.1", count=cases, prefix="S")
    argv = ["serve", str(quick), str(long), "--port", str(port), "--stations", "2"]
    argv += ["--capabilities", f"{good}={CAPS}", "--capabilities", f"{fuzz}={CAPS}"]
    argv += ["--reconnect-timeout", "3", "--out", str(folder / "runs")]
    command = Command(argv)
    wait_listening(port)
    return command, port


class Proxy:
    """A :class:`RecordingProxy` on its own event loop in a thread, recording to a run."""

    def __init__(self, folder: Path, *, upstream: str) -> None:
        clock = ScaledClock()
        manifest = Manifest(new_run_id(started_at=clock.now()), clock.now(), "proxy", ())
        self.writer = RunStore.create(folder / "proxy-runs", manifest)
        self.proxy = RecordingProxy(upstream_url=upstream, writer=self.writer, clock=clock)
        self.loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self.error: BaseException | None = None
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        if not ready.wait(WAIT_S):
            raise TimeoutError("the proxy did not start")
        self.port = self.proxy.port

    def _run(self, ready: threading.Event) -> None:
        async def serve() -> None:
            self._stop = asyncio.Event()
            async with self.proxy:
                ready.set()
                await self._stop.wait()

        try:
            self.loop.run_until_complete(serve())
        except BaseException as exc:  # reported by the test
            self.error = exc
            ready.set()

    @property
    def alive(self) -> bool:
        """True while the proxy serves."""
        return self.thread.is_alive()

    def stop(self) -> None:
        """Stop the proxy and finish its run."""
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(WAIT_S)
        self.writer.finish(finished_at=ScaledClock().now())
        if self.error is not None:
            raise self.error


def recorded(run_dirs: Sequence[Path]) -> Counter[str]:
    """Every frame a station sent, as recorded in these run folders (traces and
    ``outside.jsonl``; binary frames as ``<binary:HEX>``)."""
    found: Counter[str] = Counter()
    for run_dir in run_dirs:
        reader = RunReader(run_dir)
        frames: list[dict[str, Any]] = [f for k in reader.trace_keys() for f in reader.trace(k)]
        for frame in frames + reader.outside():
            if frame.get("dir") != "in":
                continue
            if "binary" in frame:  # the proxy's form
                found["<binary:" + base64.b64decode(frame["binary"]).hex() + ">"] += 1
            else:
                found[str(frame.get("raw"))] += 1
    return found


def as_recorded(sent: Sequence[str | bytes]) -> Counter[str]:
    """What :func:`recorded` should hold for frames sent."""
    return Counter(f"<binary:{s.hex()}>" if isinstance(s, bytes) else s for s in sent)


def rss_bytes() -> int:
    """This process's resident set size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
