"""Fixtures shared by the whole test suite: real services the tests need; the order the
tests start in."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests are deterministic in the test run: the same examples every time (a failure
# seen once is seen again, and a passing run cannot turn red by drawing new examples), and no
# per-example deadline (a loaded machine makes timing deadlines flaky). Explore more with
# HYPOTHESIS_PROFILE=explore (random examples, the example database).
settings.register_profile("repeatable", derandomize=True, deadline=None, database=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``long`` (tens of seconds of wall time each) start first.

    The run is spread over parallel workers (pyproject's addopts): a long test that starts
    last would end the run alone on one worker while the others idle. The sort is stable,
    so the other tests keep their order.
    """
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@dataclass(frozen=True)
class Broker:
    """A running MQTT broker on loopback."""

    host: str
    port: int

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_mosquitto() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/bin/mosquitto") if os.access(p, os.X_OK)),
        None,
    )


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A real mosquitto broker on 127.0.0.1 and a free port, for the whole test session.

    ``.ci/run`` installs mosquitto. On a developer machine without it the tests that need a
    broker are skipped with a reason; under CI (``CI`` set) a missing broker is an error.
    """
    exe = find_mosquitto()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("mosquitto is not installed; .ci/run must install it")
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    port = free_port()
    folder: Path = tmp_path_factory.mktemp("mosquitto")
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\npersistence false\nset_tcp_nodelay true\n",
        encoding="utf-8",
    )
    log = (folder / "mosquitto.log").open("w", encoding="utf-8")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "mosquitto did not start: " + (folder / "mosquitto.log").read_text()
                    ) from None
                time.sleep(0.05)
        yield Broker(host="127.0.0.1", port=port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
