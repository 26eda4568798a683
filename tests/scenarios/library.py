"""Shared look-ups for the case-library tests: where the library is, and step walking."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from harness.scenario import Case, RepeatStep, Step, load_cases

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
SCHEMA_DIR = SCENARIOS / "schema"
FLEET = SCENARIOS / "fleets" / "synthetic-fleet.yaml"
SIM_STATION = SCENARIOS / "capabilities" / "sim-station.yaml"

VP_IDS = tuple(f"VP-{n:02d}" for n in range(1, 14))
VP2_IDS = tuple(f"VP-{n}" for n in range(15, 22))
"""The programme's second edition (OCPP 1.6 and 2.0.1): below 6 A, pause status, odd limits,
pause reaction time, a one-phase vehicle under a W limit, wake-up. VP-22 (ISO 15118) is 2.0.1
only; VP-23 (a DC station) is in both but not for the built-in AC station."""
DC_IDS = ("VP-23", "VP-24")
"""The DC cases of the programme (OCPP 1.6 and 2.0.1): ``needs: [dc]``, judged on power; the
built-in DC station runs them with a dc fleet vehicle. Every other case says ``not dc``."""
V21_VP_IDS = (*VP2_IDS, "VP-22", *DC_IDS)
"""The programme cases of scenarios/vehicle-programme-201 that list OCPP 2.1 too."""
ROB_IDS = ("ROB-01", "ROB-02", "ROB-03")
V21_IDS = (*(f"V2X-{n:02d}" for n in range(1, 11)), "VP-14")
"""The OCPP 2.1 cases: ``ocpp21/V2X-xx`` and the programme's VP-14."""
TC_IDS = (
    "TC_056_CS",
    "TC_057_CS",
    "TC_058_1_CS",
    "TC_058_2_CS",
    "TC_059_CS",
    "TC_060_CS",
    "TC_066_CS",
    "TC_067_CS",
    "TC_072_CS",
    "TC_082_CS",
)

CSMS_IDS = (
    "TC_056_CSMS",
    "TC_057_CSMS",
    "TC_059_CSMS",
    "TC_066_CSMS",
    "TC_067_CSMS",
    "SC-CSMS-16",
    "TC_K_01_CSMS",
    "TC_K_60_CSMS",
    "TC_K_37_CSMS",
    "SC-CSMS-201-COMPOSITE",
    "TC_K_05_CSMS",
    "SC-CSMS-201",
    # the 2.0.1 block K CSMS cases of the catalogue (issue 18)
    *(f"TC_K_{n:02d}_CSMS" for n in (3, 4, 6, 8, 10, 19, *range(29, 37), 43, 44, 48, 50, 51, 52)),
    # the ISO 15118 and last 2.0.1 block K CSMS cases (issue 18)
    *(f"TC_K_{n:02d}_CSMS" for n in (2, 15, 53, 55, 57, 58, 59, 70)),
)
"""The CSMS-side cases (``dut_role: csms``) under scenarios/csms/."""
_FOLDERS = (  # the 2.0.1 folders have their own tests (test_ocpp201_*.py)
    "vehicle-programme",
    "ocpp16",
    "robustness",
    "security",
    "csms/ocpp16",
    "csms/ocpp16-core",
    "csms/ocpp201",
)


K201_IDS = tuple(
    f"TC_K_{n:02d}_CS"
    for n in (*range(1, 13), 14, 16, 19, *range(21, 25), 28, *range(29, 43), 47, 52, 60)
) + tuple(f"TC_K_{n}_CS" for n in (13, 15, 53, 54, 56, 57, 58))  # reboot, no SC, ISO 15118
"""The OCPP 2.0.1 station cases (scenarios/ocpp201); the 2.0.1 vehicle programme
(scenarios/vehicle-programme-201) reuses VP_IDS."""
SC16_IDS = tuple(f"SC-16-{n:02d}" for n in (1, 2, 3, 5))
"""Our own OCPP 1.6 station cases (scenarios/ocpp16, beside the OCA ones): coverage holes.
(SC-16-04 is OCA's TC_026_CS, renamed.)"""
CORE16_IDS = tuple(
    f"TC_{n}_CS" for n in ("010", "011_1", "011_2", "012", "026", "027", "028", "070", "071")
)
"""The OCA OCPP 1.6 Core station cases beside smart charging (scenarios/ocpp16): remote
start/stop and meter values (issue 18, point 4)."""
CORE16_CSMS_IDS = tuple(f"TC_{n}_CSMS" for n in ("010", "011_1", "011_2", "012", "026", "028"))
"""Their CSMS side (scenarios/csms/ocpp16-core; the 1.6 CSMS document has no meter-values
cases)."""
SC201_IDS = tuple(f"SC-201-{n:02d}" for n in range(1, 6))
"""Our own OCPP 2.0.1 station cases (scenarios/ocpp201, beside the OCA ones)."""


def cases_for(version: str) -> list[Case]:
    """The library's cases for one OCPP version (the built-in declaration is per version)."""
    return [c for c in load_cases([SCENARIOS]) if version in {str(v) for v in c.ocpp_versions}]


def case_files() -> list[Path]:
    """The case files of the library but the 2.0.1 folders (tested in test_ocpp201_*.py)."""
    return sorted(path for folder in _FOLDERS for path in (SCENARIOS / folder).glob("*.yaml"))


def load_case(case_id: str) -> Case:
    """The library's case with this id (its file is named after it)."""
    (path,) = [p for p in case_files() if p.stem == case_id]
    (case,) = load_cases([path])
    return case


def walk(steps: Sequence[Step]) -> Iterator[Step]:
    """Every step, repeat bodies included (each written step once, in file order)."""
    for step in steps:
        yield step
        if isinstance(step, RepeatStep):
            yield from walk(step.steps)
