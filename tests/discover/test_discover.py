"""``ocpp-harness discover`` against the built-in 1.6, 2.0.1 and 2.1 stations over loopback.

The declaration it writes must agree with the hand-written one of the simulator
(:func:`harness.runner.inputs.sim_capabilities`) on every field the station advertises or
that its version implies; once the engineer fills in the lines discovery could not (here:
from the hand-written declaration, as the engineer would from the data sheet), the
version's suite gives the same verdict for every case as with the hand-written declaration.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.clock import ScaledClock
from harness.discover import Origin, declaration_yaml, differences, discover
from harness.discover.advertised import from_configuration_16
from harness.results import RunStore, Verdict
from harness.runner.inputs import scenarios_root, sim_capabilities
from harness.scenario import load_capabilities
from harness.transport import OcppServer
from harness.versions import OcppVersion
from simulators.station import StationConfig
from simulators.station.runtime import SimulatedStation

SUITES = {"1.6": "ocpp16", "2.0.1": "ocpp201", "2.1": "ocpp21"}
CONFIRM = re.compile(r"^# (\w+): \?.*$", re.MULTILINE)


async def discovered(version: str) -> Any:
    station = SimulatedStation(
        StationConfig(
            station_id="DISC-1",
            serial_number="SN-42",
            ocpp_version=OcppVersion(version),
            phase_switching=True,  # as the library's sim runs configure it
        ),
        clock=ScaledClock(),
    )
    tasks: list[asyncio.Task[None]] = []

    def listening(server: OcppServer) -> None:
        tasks.append(asyncio.create_task(station.connect(server.url("DISC-1"))))

    try:
        return await discover(port=0, timeout_s=30, on_listening=listening)
    finally:
        await station.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def confirmed(text: str, values: dict[str, Any]) -> str:
    """The engineer's step: each commented-out line filled in from ``values``."""
    return CONFIRM.sub(lambda m: f"{m.group(1)}: {json.dumps(values[m.group(1)])}", text)


def verdicts(out: Path, argv: list[str]) -> dict[str, Verdict]:
    assert main([*argv, "--out", str(out)]) in {0, 1, 3}
    (run,) = list(out.iterdir())
    return {r.key: r.verdict for r in RunStore.open(run).results()}


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_discover_writes_a_declaration_that_gives_the_same_verdicts(
    version: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = asyncio.run(discovered(version))
    assert found.ocpp_version == version
    assert found.identity["serial"] == "SN-42"
    hand = sim_capabilities((version,)).model_dump(mode="json")
    for field in found.fields:
        if field.origin is not Origin.TO_CONFIRM:  # advertised or implied: must be right
            expected = hand[field.name]
            got = sorted(field.value) if isinstance(field.value, list) else field.value
            want = sorted(expected) if isinstance(expected, list) else expected
            assert got == want, (field.name, field.note)
    assert found.value("max_stack_level") is not None  # read from the station, not guessed
    text = declaration_yaml(found)
    path = tmp_path / "discovered.yaml"
    path.write_text(text, encoding="utf-8")
    raw = load_capabilities(path)  # loads as written, before any confirmation
    assert [str(v) for v in raw.ocpp_versions] == [version]
    path.write_text(confirmed(text, hand), encoding="utf-8")
    assert load_capabilities(path).model_dump(mode="json") | {"name": None} == hand | {"name": None}
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "synthetic: true\nname: one\nmodels:\n"
        "  - {id: ev1, label: EV 1, archetype: bev_3ph_16a, market_share: 100}\n"
    )
    suite = str(scenarios_root() / SUITES[version])
    common = ["run", suite, "--ocpp", version, "--fleet", str(fleet)]
    by_hand = verdicts(tmp_path / "hand", common)
    by_discovery = verdicts(tmp_path / "disc", [*common, "--capabilities", str(path)])
    capsys.readouterr()
    assert by_hand
    assert by_discovery == by_hand
    assert Verdict.PASS in by_hand.values()


def test_discover_cli_writes_the_file_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "station.yaml"
    out.write_text("keep me\n")
    assert main(["discover", "--listen", "127.0.0.1:0", "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert out.read_text() == "keep me\n"
    assert main(["discover", "--listen", "nonsense", "--out", str(tmp_path / "x.yaml")]) == 2


def test_differences_name_each_field_the_station_contradicts() -> None:
    found = from_configuration_16(
        "CP-1",
        {
            "SupportedFeatureProfiles": "Core,SmartCharging",
            "ChargingScheduleMaxPeriods": "16",
            "ChargeProfileMaxStackLevel": "8",
            "ChargingScheduleAllowedChargingRateUnit": "Current",
        },
        {},
    )
    declared = sim_capabilities(("1.6",)).model_dump(mode="json")
    problems = differences(found, declared)
    assert problems == [
        "the declaration says max_periods: 24; the station advertises 16 "
        "(ChargingScheduleMaxPeriods)",
        'the declaration says units: ["A", "W"]; the station advertises ["A"] '
        "(ChargingScheduleAllowedChargingRateUnit)",
    ]
    # not advertised (max_profiles) or only implied (purposes): not compared
    assert differences(found, {**declared, "max_stack_level": 8}) == problems


def test_discover_command_end_to_end(tmp_path: Path) -> None:
    """`ocpp-harness discover` as its own process; the built-in 1.6 station connects."""
    out = tmp_path / "station.yaml"
    root = Path(__file__).parents[2]
    argv = ["discover", "--listen", "127.0.0.1:0", "--out", str(out), "--timeout-s", "60"]
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "harness", *argv],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        found = re.search(r"Waiting for a station at (ws://127\.0\.0\.1:\d+)/", first)
        assert found is not None, first

        async def station() -> None:
            sim = SimulatedStation(
                StationConfig(station_id="CP-7", ocpp_version=OcppVersion("1.6")),
                clock=ScaledClock(),
            )
            task = asyncio.create_task(sim.connect(f"{found.group(1)}/CP-7"))
            await asyncio.wait_for(asyncio.to_thread(proc.wait), 60)
            await sim.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        asyncio.run(station())
        rest = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == 0, rest + (proc.stderr.read() if proc.stderr else "")
    assert "Station CP-7 (ocpp-harness SimStation), OCPP 1.6" in rest
    assert f"Wrote {out}." in rest
    declared = load_capabilities(out)
    assert declared.max_periods == 24
    assert "# supply_phases: ?" in out.read_text(encoding="utf-8")
