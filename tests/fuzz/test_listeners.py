"""Issue #16: a seeded, Hypothesis-driven fuzzer of the harness's own listeners over real
loopback sockets — ``run --target listen``, ``serve`` and the recording proxy.

Each test starts one target, lets Hypothesis draw batches from every fuzz class
(:mod:`tests.fuzz.peer`) against it, then ends the run and asserts: the target stayed up
throughout and answered per OCPP-J (no findings), its RSS grew boundedly, every frame the
station sent is in the run folder, other stations' runs are unaffected, and the exit status
is right (a FAIL, never 0, never a harness error). Bounded to a few examples per target so
that the normal test run stays cheap; ``benchmarks/fuzz_listeners.py`` runs it longer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from harness.exitcodes import ExitCode
from harness.results import RunReader, Verdict
from tests.fuzz import targets
from tests.fuzz.peer import Batch, FuzzPeer, classes

EXAMPLES = 24
"""Hypothesis examples per target in the normal test run (each one batch)."""
SEED = 16
RSS_GROWTH_BYTES = 200 * 1024 * 1024


def fuzz(peer: FuzzPeer, examples: int, *, avoid: tuple[str, ...] = ()) -> None:
    """Run ``examples`` batches drawn from every class (each class at least once)."""
    strategies = {k: v for k, v in classes(peer).items() if k not in avoid}
    for batch_strategy in strategies.values():  # every class once, in a fixed order
        peer.run(_first(batch_strategy))

    @seed(SEED)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(*strategies.values()))
    def explore(batch: Batch) -> None:
        peer.run(batch)

    explore()


def _first(strategy: st.SearchStrategy[Batch]) -> Batch:
    """The simplest example of ``strategy`` (deterministic)."""
    found: list[Batch] = []

    @seed(SEED)
    @settings(max_examples=1, deadline=None, database=None, phases=[Phase.generate])
    @given(strategy)
    def take(batch: Batch) -> None:
        found.append(batch)

    take()
    return found[0]


def _no_findings(peer: FuzzPeer) -> None:
    shown = "; ".join(f"{f.cls}: {f.what}" for f in peer.findings[:10])
    assert not peer.findings, shown
    assert len(peer.counts) >= 12, peer.counts


def _good_station(url: str) -> Callable[[], None]:
    """A well-behaved 1.6 station answering until its run closes the connection."""
    peer = FuzzPeer(lambda sid: f"{url}/{sid}", "GOOD", "1.6")

    def run() -> None:
        peer.activate(peer.open())
        assert peer.ws is not None
        try:
            while True:
                message = json.loads(peer.ws.recv(timeout=120))
                if message[0] == 2:
                    peer._answer(message)
        except (ConnectionClosed, TimeoutError):
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return lambda: thread.join(60)


def _runs(folder: Path) -> dict[str, RunReader]:
    out: dict[str, RunReader] = {}
    for path in sorted((folder / "runs").iterdir()):
        if path.is_dir():
            reader = RunReader(path)
            station = next((d.id for d in reader.manifest.devices), path.name)
            out[str(reader.manifest.options.get("station", station))] = reader
    return out


def _judged(reader: RunReader) -> list[Verdict]:
    return [r.verdict for r in reader.results(with_series=False)]


def test_listen_survives_every_fuzz_class(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command, port = targets.listen(tmp_path, station_id="FUZZ")
    peer = FuzzPeer(lambda sid: f"ws://127.0.0.1:{port}/{sid}", "FUZZ", "1.6")
    rss0 = targets.rss_bytes()
    try:
        fuzz(peer, EXAMPLES)
        assert command.alive
    finally:
        peer.close()
    code = command.wait()
    rss_growth = targets.rss_bytes() - rss0
    output = capsys.readouterr()
    _no_findings(peer)
    assert code == ExitCode.FAILED, output.out[-2000:]
    assert "Traceback" not in output.out + output.err
    assert rss_growth < RSS_GROWTH_BYTES
    (reader,) = _runs(tmp_path).values()
    assert reader.finished
    verdicts = _judged(reader)
    assert Verdict.ERROR not in verdicts
    assert Verdict.FAIL in verdicts
    missing = targets.as_recorded(peer.sent) - targets.recorded([reader.run_dir])
    assert not missing, list(missing)[:5]


def test_serve_survives_every_fuzz_class_and_other_stations_are_unaffected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command, port = targets.serve(tmp_path, good="GOOD", fuzz="FUZZ")
    url = f"ws://127.0.0.1:{port}"
    peer = FuzzPeer(lambda sid: f"{url}/{sid}", "FUZZ", "2.0.1")
    rss0 = targets.rss_bytes()
    try:
        fuzz(peer, EXAMPLES)
        good_done = _good_station(url)  # a station that connects during the fuzz
        fuzz(peer, EXAMPLES // 3)
        good_done()
        assert command.alive
    finally:
        peer.close()
    code = command.wait()
    rss_growth = targets.rss_bytes() - rss0
    output = capsys.readouterr()
    _no_findings(peer)
    assert code == ExitCode.FAILED, output.out[-2000:]
    assert "Traceback" not in output.out + output.err
    assert rss_growth < RSS_GROWTH_BYTES
    runs = _runs(tmp_path)
    assert set(runs) == {"GOOD", "FUZZ"}  # hostile ids started no run, wrote nothing
    good = _judged(runs["GOOD"])
    assert good[0] is Verdict.PASS
    assert set(good[1:]) == {Verdict.NOT_APPLICABLE}
    fuzz_verdicts = _judged(runs["FUZZ"])
    assert Verdict.ERROR not in fuzz_verdicts
    assert Verdict.FAIL in fuzz_verdicts
    missing = targets.as_recorded(peer.sent) - targets.recorded([runs["FUZZ"].run_dir])
    assert not missing, list(missing)[:5]
    assert {p.parent for p in tmp_path.rglob("*.yaml")} == {tmp_path}


def test_the_proxy_survives_every_fuzz_class_and_records_every_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command, port = targets.listen(tmp_path, station_id="FUZZ")
    proxy = targets.Proxy(tmp_path, upstream=f"ws://127.0.0.1:{port}")
    peer = FuzzPeer(lambda sid: f"ws://127.0.0.1:{proxy.port}/{sid}", "FUZZ", "1.6")
    rss0 = targets.rss_bytes()
    try:
        fuzz(peer, EXAMPLES // 2)
        assert proxy.alive
        assert command.alive
    finally:
        peer.close()
    code = command.wait()
    proxy.stop()
    rss_growth = targets.rss_bytes() - rss0
    capsys.readouterr()
    _no_findings(peer)
    assert code == ExitCode.FAILED
    assert rss_growth < RSS_GROWTH_BYTES
    missing = targets.as_recorded(peer.sent) - targets.recorded([proxy.writer.run_dir])
    assert not missing, list(missing)[:5]
    assert proxy.proxy.stats.frames_not_recorded == 0
