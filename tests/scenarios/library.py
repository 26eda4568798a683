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


def case_files() -> list[Path]:
    """Every case file of the library (what ``load_cases([SCENARIOS])`` reads)."""
    return sorted(
        path
        for folder in ("vehicle-programme", "ocpp16", "ocpp21")
        for path in (SCENARIOS / folder).glob("*.yaml")
    )


def load_case(case_id: str) -> Case:
    """The library's case with this id (its file is named after it)."""
    folder = (
        "vehicle-programme"
        if case_id.startswith("VP-")
        else "ocpp21"
        if case_id.startswith("V2X-")
        else "ocpp16"
    )
    (case,) = load_cases([SCENARIOS / folder / f"{case_id}.yaml"])
    return case


def walk(steps: Sequence[Step]) -> Iterator[Step]:
    """Every step, repeat bodies included (each written step once, in file order)."""
    for step in steps:
        yield step
        if isinstance(step, RepeatStep):
            yield from walk(step.steps)
