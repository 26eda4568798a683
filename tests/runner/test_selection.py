"""Selecting cases by suite, case id, glob and ``-k`` -- the same for ``run`` and ``list``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.cli import main
from harness.results import RunStore
from harness.runner.inputs import RunnerInputError, scenarios_root
from harness.runner.selection import keyword_matcher, select_cases
from harness.scenario import load_cases

from .test_cli import one_vehicle, run, run_folder


def ids(selectors: list[str], keyword: str | None = None) -> list[str]:
    return sorted({c.id for c in select_cases(selectors, keyword=keyword)})


def test_case_id_glob_suite_and_folder_select_the_library_cases() -> None:
    library = load_cases([scenarios_root()])
    assert ids(["TC_066_CS"]) == ["TC_066_CS"]
    k4 = sorted({c.id for c in library if c.id.startswith("TC_K_4")})
    assert k4
    assert ids(["TC_K_4*"]) == k4
    assert ids(["tc_k_4*"]) == k4  # ids are matched case-insensitively
    # a suite as `list` shows it, and the folder it lives in
    suite = sorted({c.id for c in library if c.suite == "csms-ocpp16"})
    assert suite
    assert ids(["csms-ocpp16"]) == suite
    assert ids(["ocpp16"]) == sorted({c.id for c in load_cases([scenarios_root() / "ocpp16"])})
    # a case named twice is taken once
    assert len(select_cases(["TC_066_CS", "TC_06*"])) == len(select_cases(["TC_06*"]))


@pytest.mark.parametrize("name", ["capabilities", "fleets", "schema", "TC_999_XX", "nope*"])
def test_a_selector_that_matches_nothing_names_what_exists(name: str) -> None:
    with pytest.raises(RunnerInputError) as caught:
        select_cases([name])
    message = str(caught.value)
    assert message.startswith(f"{name}: no case file, suite or case id matches")
    offered = re.search(r"\(suites: ([^;]+);", message)
    assert offered is not None, message
    suites = offered.group(1).split(", ")
    assert "csms-ocpp16" in suites
    assert "vehicle-programme" in suites
    assert not {"capabilities", "fleets", "schema"} & set(suites)


def test_keyword_expression() -> None:
    match = keyword_matcher("pause and not (VP-09 or long)")
    assert match("vp-04 pause after a short stop")
    assert not match("vp-09 pause")
    assert not match("vp-05 long pause")
    assert not match("vp-01 step")
    assert keyword_matcher("a or b")("xbx")
    for bad in ("", "a and", "(a", "a b", "or a", ")"):
        with pytest.raises(RunnerInputError, match="-k"):
            keyword_matcher(bad)
    chosen = select_cases(["vehicle-programme"], keyword="pause and not VP-09")
    assert chosen
    assert all("pause" in f"{c.id} {c.title} {c.category}".lower() for c in chosen)
    assert "VP-09" not in {c.id for c in chosen}
    with pytest.raises(RunnerInputError, match="none of the"):
        select_cases(["TC_066_CS"], keyword="zzz-nothing")


def test_list_and_run_accept_the_same_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "csms-ocpp16")
    assert code == 0
    shown = set(re.findall(r"^\s+(\S+)\s+requirements:", out, re.MULTILINE))
    assert shown == {"csms-ocpp16"}
    code, _, err = run(capsys, "list", "capabilities")
    assert code == 2
    assert "no case file, suite or case id matches" in err


@pytest.mark.parametrize(
    ("selector", "prefix"), [("TC_066_CS", "TC_066_CS"), ("TC_K_4*", "TC_K_4")]
)
def test_run_by_case_id_and_by_glob(
    selector: str, prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "run", selector, "--out", str(tmp_path / "r"), "--fleet", one_vehicle(tmp_path)
    )
    assert code == 0, out
    results = list(RunStore.open(run_folder(out)).results())
    assert results
    assert {r.info.case_id for r in results} == set(ids([selector])), (
        "every selected case ran, and only those"
    )
    assert all(r.info.case_id.startswith(prefix) for r in results)
    assert re.search(r"^\d+ passed, 0 failed, 0 inconclusive, \d+ skipped, 0 errors", out, re.M)
    assert main(["run", "TC_066_CS", "-k", "zzz", "--out", str(tmp_path / "x")]) == 2
