"""The ``sim`` target end to end on the built-in SimulatedStation (no test double)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.cli import main
from harness.results import DeviceKind, DeviceRef, RunStore, Verdict

ROOT = Path(__file__).parents[2]
TC066 = ROOT / "scenarios" / "ocpp16" / "TC_066_CS.yaml"


def fleet(tmp_path: Path) -> str:
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "synthetic: true\nname: one\nmodels:\n"
        "  - {id: ev1, label: EV 1, archetype: bev_3ph_16a, market_share: 100}\n"
    )
    return str(path)


def run_dir(out: str) -> Path:
    found = re.search(r"^Run folder: (.+)$", out, re.MULTILINE)
    assert found is not None, out
    return Path(found.group(1))


def test_well_behaved_station_passes_tc066(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", str(TC066), "--fleet", fleet(tmp_path), "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0, out
    (result,) = RunStore.open(run_dir(out)).results()
    assert result.verdict is Verdict.PASS
    assert any("→" in c.expected for c in result.checks)  # the composite was judged


def test_empty_composite_station_fails_tc066_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "run",
            str(TC066),
            "--fleet",
            fleet(tmp_path),
            "--out",
            str(tmp_path / "r"),
            "--station-fault",
            "empty_composite",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    (result,) = RunStore.open(run_dir(out)).results()
    assert result.verdict is Verdict.FAIL
    (failed,) = [c for c in result.checks if c.verdict is Verdict.FAIL]
    assert failed.requirement.id == "TC_066_CS"
    assert "number of periods" in failed.actual
    assert "Actual:" in out.split("Recap")[1]


def test_unknown_station_fault_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(TC066), "--station-fault", "no_such_fault"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no_such_fault" in err
    assert "empty_composite" in err


@pytest.mark.parametrize(
    ("fault", "verdict"), [(None, Verdict.PASS), ("empty_composite", Verdict.FAIL)]
)
def test_ocpp201_composite_case_on_the_built_in_station(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fault: str | None, verdict: Verdict
) -> None:
    case = ROOT / "tests" / "scenario" / "data" / "cases" / "tc_k_41_cs.yaml"
    argv = ["run", str(case), "--fleet", fleet(tmp_path), "--out", str(tmp_path / "r")]
    code = main(argv + (["--station-fault", fault] if fault else []))
    out = capsys.readouterr().out
    (result,) = RunStore.open(run_dir(out)).results()
    assert result.info.ocpp_version.value == "ocpp2.0.1"
    assert result.verdict is verdict
    assert code == (0 if verdict is Verdict.PASS else 1)


def test_a_dc_fleet_vehicle_is_judged_on_the_dc_station(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An AC and a DC model: the DC one is plugged into the built-in DC station, where the DC
    # cases run and the AC ones do not apply; the AC one the other way round.
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "synthetic: true\nname: two\nmodels:\n"
        "  - {id: ac, label: AC, archetype: bev_3ph_16a, market_share: 60}\n"
        "  - {id: dc, label: DC, archetype: bev_dc_32kw, market_share: 40}\n"
    )
    programme = ROOT / "scenarios" / "vehicle-programme"
    cases = [str(programme / f"{i}.yaml") for i in ("VP-01", "VP-23", "VP-24")]
    argv = ["run", *cases, "--fleet", str(path), "--jobs", "1", "--out", str(tmp_path / "r")]
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    results = {
        (_vehicle(r.info.devices), r.info.case_id): r for r in RunStore.open(run_dir(out)).results()
    }
    verdicts = {key: r.verdict for key, r in results.items()}
    assert verdicts == {
        ("ac", "VP-01"): Verdict.PASS,
        ("ac", "VP-23"): Verdict.NOT_APPLICABLE,
        ("ac", "VP-24"): Verdict.NOT_APPLICABLE,
        ("dc", "VP-01"): Verdict.NOT_APPLICABLE,
        ("dc", "VP-23"): Verdict.PASS,
        ("dc", "VP-24"): Verdict.PASS,
    }
    assert "needs dc" in results["ac", "VP-23"].reason
    assert "needs not dc" in results["dc", "VP-01"].reason
    assert "needs a vehicle that is not dc" in results["dc", "VP-01"].reason


def _vehicle(devices: tuple[DeviceRef, ...]) -> str:
    (vehicle,) = [d.id for d in devices if d.kind is DeviceKind.VEHICLE]
    return vehicle
