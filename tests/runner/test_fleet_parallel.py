"""A fleet shared among worker processes: same verdicts as one process, nothing lost when a
worker dies, and no orphaned worker when the run itself is killed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from harness.cli import main
from harness.clock import Clock, ScaledClock
from harness.results import Manifest, RunStore, Verdict, new_run_id
from harness.runner.fleet import FleetJob, default_jobs, longest_first, run_fleet
from harness.runner.inputs import sim_capabilities
from harness.runner.run import PlannedCase
from harness.runner.simstation import builtin_factory
from harness.runner.targets import FleetVehicle, SimProvider, SimSpec
from harness.scenario import load_cases, resolve_parameters
from harness.scenario.parameters import ParameterOverrides
from harness.transport import OcppSubprotocol

ROOT = Path(__file__).parents[2]
CASES = [ROOT / "scenarios" / "ocpp16" / f"{n}.yaml" for n in ("TC_056_CS", "TC_066_CS")]
VP = [ROOT / "scenarios" / "vehicle-programme" / f"{n}.yaml" for n in ("VP-03", "VP-13")]


def _fleet(tmp_path: Path, n: int, *, faulty: str | None = None) -> str:
    path = tmp_path / "fleet.yaml"
    archetypes = ["bev_3ph_16a"] * n
    if faulty:
        archetypes[-1] = faulty
    rows = "".join(
        f"  - {{id: ev{i}, label: EV {i}, archetype: {a}, market_share: {100 / n}}}\n"
        for i, a in enumerate(archetypes)
    )
    path.write_text(f"synthetic: true\nname: test\nmodels:\n{rows}")
    return str(path)


def _run_dir(out: str) -> Path:
    found = re.search(r"^Run folder: (.+)$", out, re.MULTILINE)
    assert found is not None, out
    return Path(found.group(1))


def _verdicts(run_dir: Path) -> dict[tuple[str, str], Verdict]:
    return {
        (r.info.case_id, "+".join(d.id for d in r.info.devices)): r.verdict
        for r in RunStore.open(run_dir).results()
    }


def test_two_workers_give_the_same_results_as_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = {}
    for jobs in ("1", "2"):
        args = [
            "run",
            *map(str, VP),
            "--fleet",
            _fleet(tmp_path, 4, faulty="needs_7_2a_to_start"),  # fails VP-03
            "--jobs",
            jobs,
            "--out",
            str(tmp_path / f"r{jobs}"),
        ]
        code = main(args)
        out = capsys.readouterr().out
        assert code == 1, out
        assert f"{jobs} worker" in out
        runs[jobs] = _verdicts(_run_dir(out))
        reader = RunStore.open(_run_dir(out))
        assert reader.finished
        for result in reader.results():
            assert reader.trace(result.key)  # every case's frames, whoever wrote them
    assert len(runs["2"]) == 8
    assert runs["1"] == runs["2"]
    assert Verdict.FAIL in runs["2"].values()


def test_the_jobs_with_most_cases_are_queued_first_equals_in_their_order() -> None:
    def job(label: str, count: int) -> FleetJob:
        planned = [PlannedCase(load_cases(CASES[:1])[0], {})] * count
        return FleetJob(label, lambda clock: None, OcppSubprotocol.V16, planned)  # type: ignore[arg-type,return-value]

    jobs = [job("a", 3), job("b", 23), job("c", 11), job("d", 23), job("e", 104)]
    assert [jobs[i].label for i in longest_first(jobs)] == ["e", "b", "d", "c", "a"]


def test_default_jobs() -> None:
    assert default_jobs(4, 2) == 2
    assert default_jobs(None, 1) == 1
    assert default_jobs(3, 0) == 1
    assert 1 <= default_jobs(None, 100) <= (os.cpu_count() or 1)


def test_a_dead_worker_costs_only_its_vehicle_cases_which_become_errors(tmp_path: Path) -> None:
    parent = os.getpid()
    factory = builtin_factory()
    cases = load_cases(CASES)
    planned = [PlannedCase(c, resolve_parameters(c, ParameterOverrides())) for c in cases]

    def job(vehicle_id: str, *, crash: bool) -> FleetJob:
        vehicle = FleetVehicle(vehicle_id, "bev_3ph_16a", label=vehicle_id)

        def make(clock: Clock) -> SimProvider:
            if crash and os.getpid() != parent:
                os._exit(9)  # the worker dies as it starts this vehicle
            spec = SimSpec(f"SIM-{vehicle_id}", OcppSubprotocol.V16, clock, vehicle)
            return SimProvider(factory, spec, station_device_id="SIM-1.6")

        return FleetJob(vehicle_id, make, OcppSubprotocol.V16, planned)

    jobs = [job("ok1", crash=False), job("dies", crash=True), job("ok2", crash=False)]
    now = ScaledClock().now()
    manifest = Manifest(
        run_id=new_run_id(started_at=now), started_at=now, target="sim", ocpp_versions=()
    )
    seen: list[str] = []
    with RunStore.create(tmp_path, manifest) as writer:
        results = run_fleet(
            jobs,
            writer=writer,
            manifest=manifest,
            capabilities=sim_capabilities(("1.6",)),
            speed=None,
            jobs=2,
            on_result=lambda r: seen.append(r.info.case_id),
        )
        run_dir = writer.run_dir
    by_vehicle = {
        (r.info.case_id, r.info.devices[-1].id): r for r in RunStore.open(run_dir).results()
    }
    assert len(results) == len(seen) == len(by_vehicle) == 6
    for case in ("TC_056_CS", "TC_066_CS"):
        assert by_vehicle[(case, "ok1")].verdict is Verdict.PASS
        assert by_vehicle[(case, "ok2")].verdict is Verdict.PASS
        dead = by_vehicle[(case, "dies")]
        assert dead.verdict is Verdict.ERROR
        assert "exit code 9" in dead.reason


def test_killing_the_run_ends_its_workers_and_keeps_what_they_judged(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- id: QUICK\n  title: quick\n  suite: vehicle-programme-crash\n  ocpp_versions: ['1.6']\n"
        "  dut_role: station\n  steps:\n"
        "    - {kind: send, action: ChangeConfiguration, payload: {key: K, value: '1'},"
        " expect: {status: Accepted}}\n"
        "- id: SLOW\n  title: ten hours\n  suite: vehicle-programme-crash\n"
        "  ocpp_versions: ['1.6']\n"
        "  dut_role: station\n  steps:\n    - {kind: wait, duration_s: 36000}\n"
    )
    out = tmp_path / "runs"
    argv = [sys.executable, "-u", "-m", "tests.runner.cli_child", "ok", "--", "run", str(cases)]
    argv += ["--fleet", _fleet(tmp_path, 2), "--speed", "50", "--jobs", "2", "--out", str(out)]
    child = subprocess.Popen(
        argv,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    quick = 0
    for line in child.stdout:
        quick += bool(re.match(r"\[\s*\d+/\d+\] QUICK", line))  # a progress line
        if quick == 2:
            break
    workers = psutil.Process(child.pid).children()
    assert len(workers) == 2
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    _gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, alive
    (run_dir,) = out.iterdir()
    reader = RunStore.open(run_dir)
    assert not reader.finished
    assert sorted(r.info.case_id for r in reader.results()) == ["QUICK", "QUICK"]


def test_a_virtual_clock_starts_on_a_whole_second(tmp_path: Path) -> None:
    """In virtual time each fleet job's clock starts on a whole second, so what happens at
    one virtual instant comes in the same order in every run (the start's microseconds once
    decided it, through the microsecond rounding of instants)."""
    factory = builtin_factory()
    starts: list[datetime] = []
    vehicle = FleetVehicle("ev1", "bev_3ph_16a", label="ev1")

    def make(clock: Clock) -> SimProvider:
        starts.append(clock.now())
        spec = SimSpec("SIM-ev1", OcppSubprotocol.V16, clock, vehicle)
        return SimProvider(factory, spec, station_device_id="SIM-1.6")

    now = ScaledClock().now()
    manifest = Manifest(
        run_id=new_run_id(started_at=now), started_at=now, target="sim", ocpp_versions=()
    )
    jobs = [FleetJob(f"ev{i}", make, OcppSubprotocol.V16, []) for i in range(5)]
    with RunStore.create(tmp_path, manifest) as writer:
        run_fleet(
            jobs,
            writer=writer,
            manifest=manifest,
            capabilities=sim_capabilities(("1.6",)),
            speed=None,
            jobs=1,
            on_result=lambda r: None,
        )
    assert len(starts) == 5
    assert [s.microsecond for s in starts] == [0] * 5
    assert all(abs((s - now).total_seconds()) < 60 for s in starts)  # still today's time
