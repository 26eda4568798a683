"""The behaviour catalogue: every archetype demonstrates what it claims; the loader's errors."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from simulators.vehicle import (
    Archetype,
    Behaviour,
    CatalogueError,
    Vehicle,
    VehicleParams,
    load_catalogue,
)
from tests.simulators.vehicle.behaviours import CHECKS, check_well_behaved
from tests.simulators.vehicle.drive import offer, run

CATALOGUE = load_catalogue()
CLAIMS = [
    pytest.param(name, behaviour, id=f"{name}-{behaviour}")
    for name in CATALOGUE.names()
    for behaviour in CATALOGUE.get(name).behaviours
]


def test_every_behaviour_has_a_demonstrating_check() -> None:
    assert set(CHECKS) == set(Behaviour)


@pytest.mark.parametrize("name", CATALOGUE.names())
def test_every_archetype_claims_a_behaviour_and_cites_evidence(name: str) -> None:
    archetype = CATALOGUE.get(name)
    assert archetype.behaviours
    assert archetype.evidence
    assert all(len(source) > 10 for source in archetype.evidence)
    assert archetype.models.endswith(".")


@pytest.mark.parametrize(("name", "behaviour"), CLAIMS)
def test_archetype_shows_the_behaviour_it_claims(name: str, behaviour: Behaviour) -> None:
    CHECKS[behaviour](CATALOGUE.get(name))


MISBEHAVING = [
    n for n in CATALOGUE.names() if Behaviour.WELL_BEHAVED not in CATALOGUE.get(n).behaviours
]


@pytest.mark.parametrize("name", MISBEHAVING)
def test_misbehaving_archetype_fails_the_well_behaved_programme(name: str) -> None:
    archetype = CATALOGUE.get(name)
    # a probabilistic archetype need not fail on every seed; a deterministic one must
    seeds = range(8) if archetype.params.resume_failure_probability > 0 else range(1)
    failed = 0
    for seed in seeds:
        try:
            check_well_behaved(archetype, seed=seed)
        except AssertionError:
            failed += 1
    assert failed >= 1


@pytest.mark.parametrize(
    "name",
    [n for n in CATALOGUE.names() if Behaviour.BIDIRECTIONAL not in CATALOGUE.get(n).behaviours],
)
def test_unidirectional_archetypes_refuse_a_discharge(name: str) -> None:
    vehicle = Vehicle(CATALOGUE.get(name).params, rng=random.Random(0))
    vehicle.set_pilot(offer(16.0))
    vehicle.plug_in()
    run(vehicle, 30)
    decision = vehicle.set_discharge(power_w=1000.0)
    assert not decision.accepted
    assert "not bidirectional" in decision.reason
    assert vehicle.reading().energy_exported_wh == 0.0


def test_catalogue_covers_the_field_classes_and_references() -> None:
    claimed = {b for name in CATALOGUE.names() for b in CATALOGUE.get(name).behaviours}
    assert claimed == set(Behaviour)
    params = [CATALOGUE.get(n).params for n in CATALOGUE.names()]
    assert any(p.phases == 3 and p.max_current_a == 16 and not p.bidirectional for p in params)
    assert any(p.phases == 3 and p.max_current_a == 32 for p in params)
    assert any(p.phases == 1 and p.max_current_a == 32 for p in params)


# ---------------------------------------------------------------- overrides


def test_fleet_overrides_apply_on_top_of_an_archetype() -> None:
    archetype = CATALOGUE.get("bev_3ph_16a")
    params = archetype.vehicle_params({"battery_capacity_wh": 77000, "max_current_a": 11})
    assert params.battery_capacity_wh == 77000.0
    assert params.max_current_a == 11.0
    assert params.phases == archetype.params.phases
    assert archetype.vehicle_params() is archetype.params


@pytest.mark.parametrize(
    ("overrides", "field", "expected"),
    [
        ({"max_current_a": "lots"}, "max_current_a", "expected a current per phase within 6–80 A"),
        ({"phases": 2}, "phases", "expected 1 or 3"),
        ({"phases": 3.0}, "phases", "expected 1 or 3"),
        ({"bidirectional": "yes"}, "bidirectional", "expected true or false"),
        ({"colour": "red"}, "colour", "expected a known vehicle parameter"),
        ({"min_current_a": 20}, "min_current_a", "expected at most max_current_a"),
        ({"kind": "diesel"}, "kind", "expected one of: bev, phev"),
    ],
)
def test_bad_override_names_source_archetype_and_field(
    overrides: dict[str, object], field: str, expected: str
) -> None:
    archetype = CATALOGUE.get("bev_3ph_16a")
    with pytest.raises(CatalogueError) as caught:
        archetype.vehicle_params(overrides, source="fleet.yaml: model 'Example'")
    message = str(caught.value)
    assert message.startswith("fleet.yaml: model 'Example': archetype 'bev_3ph_16a'")
    assert f"field {field!r}" in message
    assert expected in message


def test_unknown_archetype_lists_the_known_ones() -> None:
    with pytest.raises(CatalogueError, match=r"unknown vehicle archetype 'tesla'.*bev_3ph_16a"):
        CATALOGUE.get("tesla")


# ---------------------------------------------------------------- loader errors

GOOD = """\
archetypes:
  demo:
    models: A demo vehicle.
    evidence: ["a public source"]
    behaviours: [well_behaved]
    params: {phases: 1, max_current_a: 16}
"""


def _write(folder: Path, text: str, name: str = "demo.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_a_valid_file(tmp_path: Path) -> None:
    _write(tmp_path, GOOD)
    archetype = load_catalogue(tmp_path).get("demo")
    assert isinstance(archetype, Archetype)
    assert archetype.params == VehicleParams(phases=1, max_current_a=16.0)
    assert archetype.source.endswith("demo.yaml")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            GOOD.replace("phases: 1", "phases: 2"),
            "archetype 'demo': field 'phases': expected 1 or 3, got 2",
        ),
        (
            GOOD.replace("phases: 1", "phase: 1"),
            "field 'phase': expected a known vehicle parameter",
        ),
        (
            GOOD.replace("max_current_a: 16", "max_current_a: 100"),
            "field 'max_current_a': expected a current per phase within 6–80 A, got 100",
        ),
        (
            GOOD.replace("max_current_a: 16", "max_current_a: null"),
            "field 'max_current_a': expected a current",
        ),
        (
            GOOD.replace("    models: A demo vehicle.\n", ""),
            "field 'models': expected this field, missing",
        ),
        (GOOD.replace('["a public source"]', "[]"), "field 'evidence': expected a non-empty list"),
        (
            GOOD.replace("[well_behaved]", "[flies]"),
            "field 'behaviours': expected one of: well_behaved",
        ),
        (
            GOOD.replace("    models:", "    colour: red\n    models:"),
            "field 'colour': expected one of behaviours, evidence, models, params",
        ),
        (
            GOOD.replace("  demo:", "  Demo-Car:"),
            "archetype name 'Demo-Car': expected lower_snake_case",
        ),
        (
            GOOD.replace("params: {phases: 1, max_current_a: 16}", "params: [1, 16]"),
            "field 'params': expected a mapping",
        ),
        ("vehicles: {}\n", "expected a mapping with the single key 'archetypes'"),
        ("archetypes: {}\n", "'archetypes': expected a non-empty mapping"),
        ("archetypes:\n  demo: [oops\n", "demo.yaml:3: expected valid YAML"),
    ],
)
def test_bad_file_reports_file_archetype_field_and_expectation(
    tmp_path: Path, text: str, fragment: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(tmp_path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert fragment in message
    assert "Traceback" not in message


def test_duplicate_names_across_files_are_rejected(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "a.yaml")
    _write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(
        CatalogueError,
        match=r"b\.yaml: archetype 'demo': expected a unique name \(already defined in .*a\.yaml\)",
    ):
        load_catalogue(tmp_path)


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=r"expected at least one \*\.yaml"):
        load_catalogue(tmp_path)
