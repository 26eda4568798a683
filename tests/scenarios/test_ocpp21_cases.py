"""The OCPP 2.1 bidirectional cases (``scenarios/ocpp21``, VP-14) against the built-in 2.1
station simulator, in process and in virtual time (as ``ocpp-harness run --target sim``):
every case passes with a bidirectional vehicle, each V2X station fault and vehicle defect is
caught by the case meant for it, and a unidirectional vehicle never fails the station."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from statistics import median
from typing import Any

import jsonschema
import pytest

from harness.clock import LoopClock, run_virtual
from harness.results import (
    CaseResult,
    Manifest,
    Quantity,
    RunStore,
    Verdict,
    new_run_id,
)
from harness.runner import AutoOperator, FleetVehicle, PlannedCase, SimProvider, SimSpec, run_cases
from harness.runner.inputs import load_fleet, sim_capabilities
from harness.runner.simstation import builtin_factory
from harness.scenario import (
    ClearProfileStep,
    ExpectRequestStep,
    Level,
    SendStep,
    SetProfileStep,
    load_cases,
    resolve_parameters,
    substitute,
)
from harness.scenario.matchers import Equals, OneOf, Subset
from harness.transport import OcppSubprotocol
from harness.versions import OcppVersion
from tests.scenarios.library import SCENARIOS, V21_IDS, walk

V21_DIR = SCENARIOS / "ocpp21"
VP14 = SCENARIOS / "vehicle-programme" / "VP-14.yaml"
BIDIRECTIONAL = FleetVehicle("ev-bidi", "bev_bidirectional", "bidirectional EV")
UNIDIRECTIONAL = FleetVehicle("ev-uni", "bev_3ph_16a", "unidirectional EV")


def case_path(case_id: str) -> Path:
    return VP14 if case_id == "VP-14" else V21_DIR / f"{case_id}.yaml"


def run(
    tmp_path: Path,
    case_ids: Sequence[str],
    *,
    vehicle: FleetVehicle = BIDIRECTIONAL,
    fault: str | None = None,
) -> dict[str, CaseResult]:
    """Run the cases on one built-in 2.1 station (with ``fault``) and ``vehicle``, as the
    CLI's sim target does; the results by case id."""
    cases = load_cases([case_path(c) for c in case_ids])

    async def main() -> list[CaseResult]:
        clock = LoopClock(start=datetime(2026, 3, 1, 12, tzinfo=UTC))
        spec = SimSpec(f"SIM-{vehicle.id}-2.1", OcppSubprotocol.V21, clock, vehicle, fault)
        provider = SimProvider(builtin_factory(), spec, station_device_id="SIM-2.1")
        manifest = Manifest(
            new_run_id(started_at=clock.now()), clock.now(), "sim", (OcppSubprotocol.V21,)
        )
        with RunStore.create(tmp_path / "runs", manifest) as writer:
            results = await run_cases(
                [PlannedCase(c, resolve_parameters(c)) for c in cases],
                provider=provider,
                writer=writer,
                clock=clock,
                operator=AutoOperator(),
                capabilities=sim_capabilities(("2.1",)),
            )
            writer.finish(finished_at=clock.now())
        return results

    return {r.info.case_id: r for r in run_virtual(main())}


def failed_requirements(result: CaseResult) -> set[str]:
    return {c.requirement.id for c in result.checks if c.verdict is Verdict.FAIL}


def test_the_v21_library_is_the_expected_set() -> None:
    ids = [c.id for c in load_cases([V21_DIR, VP14])]
    assert sorted(ids) == sorted(V21_IDS)
    assert all(c.ocpp_versions == ("2.1",) or str(c.ocpp_versions[0]) == "2.1" for c in
               load_cases([V21_DIR, VP14]))  # fmt: skip


def test_every_case_passes_on_the_well_behaved_station_with_a_bidirectional_vehicle(
    tmp_path: Path,
) -> None:
    results = run(tmp_path, V21_IDS)
    verdicts = {case_id: r.verdict for case_id, r in results.items()}
    assert verdicts == dict.fromkeys(V21_IDS, Verdict.PASS)
    for result in results.values():  # every judged step passed; no step was skipped
        assert result.checks
        assert all(c.verdict is Verdict.PASS for c in result.checks)


def _export_plateau_w(result: CaseResult) -> float:
    (export,) = [s for s in result.series if s.quantity is Quantity.POWER_EXPORT]
    values = [s.value for s in export.samples if s.value is not None and s.value > 0]
    assert values, "no export was metered"
    return median(values)


def test_vp14_exports_within_5_percent_and_records_import_and_export(tmp_path: Path) -> None:
    (result,) = run(tmp_path, ["VP-14"]).values()
    assert result.verdict is Verdict.PASS
    measured_w = _export_plateau_w(result)
    assert measured_w == pytest.approx(3680.0, rel=0.05)
    settled = [c for c in result.checks if c.requirement.id == "VP-14" and "settled" in c.actual]
    assert settled
    assert "target 3680 W" in settled[0].actual
    quantities = {s.quantity for s in result.series}
    assert {Quantity.POWER_IMPORT, Quantity.POWER_EXPORT} <= quantities
    (setpoint,) = [s for s in result.series if s.quantity is Quantity.SETPOINT]
    assert [s.value for s in setpoint.samples if s.value is not None] == [-3680, 0, 3680]
    (imported,) = [s for s in result.series if s.quantity is Quantity.POWER_IMPORT]
    assert max(s.value or 0.0 for s in imported.samples) > 3000  # before and after the export


@pytest.mark.parametrize(
    ("fault", "case_id", "requirement"),
    [
        ("never_discharges", "V2X-03", "Q03"),
        ("never_discharges", "VP-14", "VP-14"),
        ("ignores_allowed_energy_transfer", "V2X-02", "Q01"),
        ("accepts_but_ignores", "V2X-04", "Q03"),
        ("accepts_but_ignores", "V2X-07", "Q10"),
        ("accepts_but_ignores", "VP-14", "VP-14"),
        ("late_apply", "VP-14", "VP-14"),
        ("late_apply", "V2X-08", "Q02.limit"),
        ("empty_composite", "V2X-10", "K08"),
        ("redundant_periods", "V2X-10", "K08"),
        ("unit_ignored", "V2X-10", "K08"),
        ("endless_composite", "V2X-05", "Q05.composite"),
        ("accepts_invalid_v2x_profile", "V2X-09", "V2X-09.setpoint-required"),
        ("accepts_invalid_v2x_profile", "V2X-09", "V2X-09.limit-required-idle"),
    ],
)
def test_each_station_fault_is_caught_by_its_case(
    tmp_path: Path, fault: str, case_id: str, requirement: str
) -> None:
    (result,) = run(tmp_path, [case_id], fault=fault).values()
    assert result.verdict is Verdict.FAIL
    assert requirement in failed_requirements(result)


@pytest.mark.parametrize(
    ("fault", "case_id"),
    [("never_discharges", "V2X-02"), ("ignores_allowed_energy_transfer", "V2X-03")],
)
def test_a_v2x_fault_does_not_fail_cases_it_is_not_about(
    tmp_path: Path, fault: str, case_id: str
) -> None:
    (result,) = run(tmp_path, [case_id], fault=fault).values()
    assert result.verdict is Verdict.PASS


def _bidirectional(**params: Any) -> FleetVehicle:
    return FleetVehicle("ev-bidi-x", "bev_bidirectional", "variant", params=params)


@pytest.mark.parametrize(
    ("vehicle", "requirement"),
    [
        # exports at most 2 kW: the station asks for 3680 W, the meter shows 2000 W
        (_bidirectional(max_discharge_power_w=2000), "VP-14"),
        # follows a pilot change only after 30 s (VP-14 allows VP-01's 15 s); its export
        # answers the ISO 15118 request at once, so the import step is where it shows
        (_bidirectional(response_delay_s=30), "VP-14.import"),
    ],
    ids=["limited-discharge", "slow-response"],
)
def test_each_vehicle_defect_is_caught_by_vp14(
    tmp_path: Path, vehicle: FleetVehicle, requirement: str
) -> None:
    (result,) = run(tmp_path, ["VP-14"], vehicle=vehicle).values()
    assert result.verdict is Verdict.FAIL
    assert requirement in failed_requirements(result)


NEEDS_BIDIRECTIONAL = ("V2X-01", "V2X-02", "V2X-03", "V2X-04", "VP-14")


def test_a_unidirectional_vehicle_never_fails_the_station(tmp_path: Path) -> None:
    results = run(tmp_path, V21_IDS, vehicle=UNIDIRECTIONAL)
    for case_id, result in results.items():
        if case_id in NEEDS_BIDIRECTIONAL:
            # not a V2X session: INCONCLUSIVE at the precondition (NOT_APPLICABLE once the
            # runner knows the vehicle's facts), never FAIL
            assert result.verdict is Verdict.INCONCLUSIVE, case_id
            assert "NotifyEVChargingNeeds" in result.reason
            assert not failed_requirements(result)
        else:
            assert result.verdict is Verdict.PASS, case_id


def test_parameters_reach_the_wire(tmp_path: Path) -> None:
    """A lab may change the setpoint: the export follows the parameter, not a constant."""
    (case,) = load_cases([case_path("V2X-03")])
    assert resolve_parameters(case)["setpoint_w"] == -3680.0
    override: Mapping[str, Any] = {"setpoint_w": -5000.0}

    async def main() -> list[CaseResult]:
        clock = LoopClock(start=datetime(2026, 3, 1, 12, tzinfo=UTC))
        spec = SimSpec("SIM-p", OcppSubprotocol.V21, clock, BIDIRECTIONAL)
        provider = SimProvider(builtin_factory(), spec)
        manifest = Manifest(
            new_run_id(started_at=clock.now()), clock.now(), "sim", (OcppSubprotocol.V21,)
        )
        with RunStore.create(tmp_path / "runs", manifest) as writer:
            out = await run_cases(
                [PlannedCase(case, {**resolve_parameters(case), **override})],
                provider=provider,
                writer=writer,
                clock=clock,
                operator=AutoOperator(),
                capabilities=sim_capabilities(("2.1",)),
            )
            writer.finish(finished_at=clock.now())
        return out

    (result,) = run_virtual(main())
    assert result.verdict is Verdict.PASS
    assert _export_plateau_w(result) == pytest.approx(5000.0, rel=0.05)


def test_the_v2x_fleet_is_bidirectional_and_catches_its_defects(tmp_path: Path) -> None:
    vehicles = load_fleet(SCENARIOS / "fleets" / "v2x-fleet.yaml")
    assert [v.archetype for v in vehicles] == ["bev_bidirectional"] * 3
    verdicts = {v.id: next(iter(run(tmp_path / v.id, ["VP-14"], vehicle=v).values())).verdict
                for v in vehicles}  # fmt: skip
    assert verdicts == {
        "syn-v2x-11kw-01": Verdict.PASS,
        "syn-v2x-2kw-export": Verdict.FAIL,
        "syn-v2x-slow": Verdict.FAIL,
    }


# --- conventions of the 2.1 cases (static: no run) ----------------------------------------

SHOULD_21 = {"Q01.unknown", "Q10.resume", "V2X-09.station-max-charging-only"}
"""Where a 2.1 case says SHOULD: no numbered requirement behind it, or a convenience."""
USE_CASE_ID = re.compile(r"^[A-R]\d\d(\.[a-z-]+)?$")  # Q01, K08, Q05.composite...


def _v21_schema(name: str) -> dict[str, Any]:
    path = resources.files("ocpp") / "v21" / "schemas" / f"{name}.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


@pytest.mark.parametrize("case_id", V21_IDS)
def test_requirements_are_use_cases_or_the_case_and_every_one_is_checked(case_id: str) -> None:
    (case,) = load_cases([case_path(case_id)])
    declared = {r.id for r in case.requirements}
    steps = list(walk(case.steps))
    judged = {s.requirement for s in steps if s.requirement is not None}
    assert judged == declared  # declared ⊆ checked: no requirement is only decoration
    for requirement in case.requirements:
        assert requirement.text
        assert requirement.id.startswith(case_id) or USE_CASE_ID.match(requirement.id)
        expected = Level.SHOULD if requirement.id in SHOULD_21 else Level.MUST
        assert requirement.level is expected, requirement.id


@pytest.mark.parametrize("case_id", V21_IDS)
def test_every_message_validates_against_the_21_schemas(case_id: str) -> None:
    """After substitution (stored variables as a 2.1 station would give them), every request
    the case sends and every answer it gives is valid OCPP 2.1; expected statuses exist."""
    (case,) = load_cases([case_path(case_id)])
    variables: dict[str, Any] = {**resolve_parameters(case), "tx_id": "TX-1", "requested": "AC_BPT"}
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    checked = 0
    for step in walk(case.steps):
        if isinstance(step, SetProfileStep | ClearProfileStep):
            step = step.as_send(OcppVersion.V21)
        if isinstance(step, SendStep):
            payload = substitute(step.payload, variables=variables, now=now)
            jsonschema.validate(payload, _v21_schema(f"{step.action}Request"))
            statuses = _statuses(step.expect)
            if statuses:
                response = _v21_schema(f"{step.action}Response")
                ref = response["properties"]["status"]["$ref"].rsplit("/", 1)[-1]
                allowed = response["definitions"][ref]["enum"]
                assert set(statuses) <= set(allowed), f"{step.action} status {statuses}"
        elif isinstance(step, ExpectRequestStep) and step.respond_with is not None:
            answer = substitute(step.respond_with, variables=variables, now=now)
            jsonschema.validate(answer, _v21_schema(f"{step.action}Response"))
        else:
            continue
        checked += 1
    assert checked >= 3


def _statuses(matcher: Any) -> list[str]:
    """The status values a send step's expectation accepts (``status: X`` or one_of)."""
    if not isinstance(matcher, Subset):
        return []
    found = dict(matcher.fields).get("status")
    if isinstance(found, Equals):
        return [str(found.value)]
    if isinstance(found, OneOf):
        return [str(v.value) if isinstance(v, Equals) else str(v) for v in found.options]
    return []
