"""Fleet files: the synthetic fleet, the loader's checks and errors, pass rates."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.scenario.fleet import (
    Fleet,
    FleetLoadError,
    FleetModel,
    fleet_json_schema,
    load_fleet,
)
from simulators.vehicle import Behaviour, VehicleKind, VehicleParams, load_catalogue
from tests.scenarios.library import FLEET, SCHEMA_DIR

CATALOGUE = load_catalogue()
FAULTY = {
    name for name, a in CATALOGUE.archetypes.items() if Behaviour.WELL_BEHAVED not in a.behaviours
}
WELL_BEHAVED = set(CATALOGUE.archetypes) - FAULTY


def test_the_synthetic_fleet_loads_and_says_it_is_synthetic() -> None:
    fleet = load_fleet(FLEET)
    assert fleet.synthetic is True
    assert "synthetic" in fleet.name.lower()
    assert "SYNTHETIC" in FLEET.read_text(encoding="utf-8").splitlines()[2]
    assert len(fleet.models) >= 20
    assert all(model.label.startswith("Synthetic ") for model in fleet.models)
    assert len({model.id for model in fleet.models}) == len(fleet.models)
    assert abs(fleet.total_share_percent - 100.0) <= 0.5


def test_the_synthetic_fleet_mixes_well_behaved_and_faulty_archetypes() -> None:
    fleet = load_fleet(FLEET)
    used = {model.archetype for model in fleet.models}
    assert len(used & WELL_BEHAVED) >= 4
    assert len(used & FAULTY) >= 5
    assert used >= FAULTY, f"faulty archetypes missing: {sorted(FAULTY - used)}"
    assert {m.well_behaved for m in fleet.models} == {True, False}
    for model in fleet.models:
        assert model.well_behaved is (model.archetype in WELL_BEHAVED)


def test_count_and_share_pass_rates_differ_when_the_faulty_models_fail() -> None:
    fleet = load_fleet(FLEET)
    rates = fleet.pass_rates(m.id for m in fleet.models if m.well_behaved)
    assert rates.by_share_percent >= 85.0  # faulty models hold small shares
    assert rates.by_count_percent <= 70.0  # but are about a third of the models
    assert max(m.market_share for m in fleet.models if not m.well_behaved) <= 2.0


def test_overrides_reach_the_vehicle_parameters() -> None:
    fleet = load_fleet(FLEET)
    hybrid = fleet.model("syn-phev-1ph-3kw-03")
    assert hybrid.archetype == "phev_1ph_16a"
    assert hybrid.params.max_current_a == 13.0
    assert hybrid.params.phases == 1
    assert hybrid.params.kind is VehicleKind.PHEV
    assert hybrid.params.battery_capacity_wh == 9000.0
    assert dict(hybrid.overrides) == {"max_current_a": 13, "battery_capacity_wh": 9000}
    plain = fleet.model("syn-bev-3ph-22kw-01")
    assert plain.params == CATALOGUE.get("bev_3ph_32a").params
    one_phase_sleeper = fleet.model("syn-bev-1ph-7kw-03")
    assert one_phase_sleeper.params.phases == 1
    assert one_phase_sleeper.params.sleep_after_pause_s == 1800.0


def test_the_fleet_validates_against_the_published_schema() -> None:
    schema = json.loads((SCHEMA_DIR / "fleet.schema.json").read_text(encoding="utf-8"))
    document = yaml.safe_load(FLEET.read_text(encoding="utf-8"))
    assert [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(document)] == []


def test_the_published_fleet_schema_is_current() -> None:
    published = json.loads((SCHEMA_DIR / "fleet.schema.json").read_text(encoding="utf-8"))
    assert published == fleet_json_schema(), (
        "regenerate: python -c 'import json; from harness.scenario.fleet import "
        "fleet_json_schema as s; print(json.dumps(s(), indent=2, ensure_ascii=False))' "
        "> scenarios/schema/fleet.schema.json"
    )


def test_the_schema_rejects_an_unknown_archetype() -> None:
    document = yaml.safe_load(FLEET.read_text(encoding="utf-8"))
    document["models"][0]["archetype"] = "flying_car"
    assert not jsonschema.Draft202012Validator(fleet_json_schema()).is_valid(document)


# --- loader errors -----------------------------------------------------------------------

GOOD_HEAD = """\
synthetic: true
name: test fleet
models:
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = _write(tmp_path, text)
    with pytest.raises(FleetLoadError) as caught:
        load_fleet(path)
    return [str(p).replace(str(path), "fleet.yaml") for p in caught.value.problems]


def test_unknown_archetype_names_the_line_and_the_valid_names(tmp_path: Path) -> None:
    (problem,) = _problems(
        tmp_path,
        GOOD_HEAD
        + """\
  - {id: a, label: A, archetype: bev_3ph_16a, market_share: 50}
  - {id: b, label: B, archetype: flying_car, market_share: 50}
""",
    )
    assert problem.startswith("fleet.yaml:5:")
    assert "models[1].archetype" in problem
    assert "'flying_car'" in problem
    for name in CATALOGUE.names():
        assert name in problem


def test_unknown_override_field_is_named(tmp_path: Path) -> None:
    (problem,) = _problems(
        tmp_path,
        GOOD_HEAD
        + """\
  - id: a
    label: A
    archetype: bev_3ph_16a
    market_share: 100
    params:
      wheels: 4
""",
    )
    assert problem.startswith("fleet.yaml:9:")
    assert "models[0].params.wheels" in problem
    assert "known vehicle parameter" in problem


def test_bad_override_value_is_named_with_what_was_expected(tmp_path: Path) -> None:
    (problem,) = _problems(
        tmp_path,
        GOOD_HEAD
        + """\
  - id: a
    label: A
    archetype: bev_3ph_16a
    market_share: 100
    params: {phases: 2}
""",
    )
    assert problem.startswith("fleet.yaml:")
    assert "models[0].params.phases" in problem
    assert "expected 1 or 3, got 2" in problem
    assert "model 'a'" in problem


def test_cross_field_override_error_is_reported(tmp_path: Path) -> None:
    (problem,) = _problems(
        tmp_path,
        GOOD_HEAD
        + """\
  - {id: a, label: A, archetype: bev_3ph_16a, market_share: 100, params: {min_current_a: 20}}
""",
    )
    assert "min_current_a" in problem
    assert "at most max_current_a" in problem


def test_shares_must_sum_to_100(tmp_path: Path) -> None:
    (problem,) = _problems(
        tmp_path,
        GOOD_HEAD
        + """\
  - {id: a, label: A, archetype: bev_3ph_16a, market_share: 60}
  - {id: b, label: B, archetype: slow_ramp, market_share: 39}
""",
    )
    assert problem.startswith("fleet.yaml:4:")
    assert "summing to 100 % (± 0.5), got 99 %" in problem


def test_shares_within_rounding_are_accepted(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        GOOD_HEAD
        + """\
  - {id: a, label: A, archetype: bev_3ph_16a, market_share: 66.7}
  - {id: b, label: B, archetype: slow_ramp, market_share: 33.4}
""",
    )
    fleet = load_fleet(path)
    assert fleet.total_share_percent == pytest.approx(100.1)
    assert fleet.pass_rates(["a", "b"]).by_share_percent == pytest.approx(100.0)


def test_duplicate_ids_point_at_the_first(tmp_path: Path) -> None:
    (problem,) = _problems(
        tmp_path,
        GOOD_HEAD
        + """\
  - {id: a, label: A, archetype: bev_3ph_16a, market_share: 50}
  - {id: a, label: A again, archetype: slow_ramp, market_share: 50}
""",
    )
    assert problem.startswith("fleet.yaml:5:")
    assert "duplicate model id 'a' (first at line 4)" in problem


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """\
synthetic: maybe
name: test fleet
colour: blue
models:
  - {id: a, label: "", archetype: bev_3ph_16a, market_share: 0}
  - {id: b, archetype: slow_ramp, market_share: 100, extra: 1}
""",
    )
    text = "\n".join(problems)
    assert "synthetic: expected true or false, got 'maybe'" in text
    assert "colour: unknown field" in text
    assert "models[0].label: expected a non-empty text" in text
    assert "models[0].market_share: expected a percentage > 0" in text
    assert "models[1]: missing field 'label'" in text
    assert "models[1].extra: unknown field" in text
    assert len(problems) == 6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("models: [\n", "YAML syntax"),
        ("- a\n- b\n", "expected a mapping with synthetic, name, models"),
        ("synthetic: true\nname: x\nmodels: []\n", "expected a non-empty list of models"),
        ("synthetic: true\nmodels:\n  - 3\n", "missing field 'name'"),
        ("synthetic: true\nname: x\nmodels:\n  - 3\n", "expected a model (a mapping), got 3"),
        (
            "synthetic: true\nname: x\nmodels:\n"
            "  - {id: 'a b', label: A, archetype: slow_ramp, market_share: 100}\n",
            "expected an id of letters",
        ),
        (
            "synthetic: true\nname: x\nmodels:\n"
            "  - {id: a, label: A, archetype: slow_ramp, market_share: 100, params: [1]}\n",
            "expected a mapping of parameter: value",
        ),
        (
            "synthetic: true\nname: x\nmodels:\n"
            "  - {id: a, label: A, archetype: slow_ramp, market_share: true}\n",
            "expected a percentage > 0 and ≤ 100, got True",
        ),
    ],
)
def test_malformed_files_give_located_problems(tmp_path: Path, text: str, expected: str) -> None:
    problems = _problems(tmp_path, text)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("fleet.yaml") for p in problems)


def test_a_missing_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(FleetLoadError, match="cannot read the file"):
        load_fleet(tmp_path / "absent.yaml")


# --- pass rates --------------------------------------------------------------------------


def _fleet(shares: list[float]) -> Fleet:
    params = VehicleParams()
    models = tuple(
        FleetModel(
            id=f"m{i}",
            label=f"Synthetic #{i}",
            archetype="bev_3ph_16a",
            params=params,
            market_share=share,
            overrides={},
            behaviours=(Behaviour.WELL_BEHAVED,),
        )
        for i, share in enumerate(shares)
    )
    return Fleet(name="t", synthetic=True, description="", models=models, source="t")


@settings(max_examples=50)
@given(
    shares=st.lists(st.floats(min_value=0.1, max_value=50.0), min_size=1, max_size=12),
    data=st.data(),
)
def test_pass_rates_of_a_subset_and_its_complement_add_up(
    shares: list[float], data: st.DataObject
) -> None:
    fleet = _fleet(shares)
    ids = [m.id for m in fleet.models]
    passed = data.draw(st.sets(st.sampled_from(ids)))
    failed = set(ids) - passed
    a, b = fleet.pass_rates(passed), fleet.pass_rates(failed)
    assert a.by_count_percent + b.by_count_percent == pytest.approx(100.0)
    assert a.by_share_percent + b.by_share_percent == pytest.approx(100.0)
    assert fleet.pass_rates(ids).by_share_percent == pytest.approx(100.0)
    assert fleet.pass_rates([]).by_count_percent == 0.0


def test_pass_rates_reject_unknown_ids() -> None:
    fleet = _fleet([50.0, 50.0])
    with pytest.raises(KeyError, match="ghost"):
        fleet.pass_rates(["m0", "ghost"])
    with pytest.raises(KeyError, match="known: m0, m1"):
        fleet.model("ghost")
