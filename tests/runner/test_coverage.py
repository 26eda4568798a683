"""The official catalogue (scenarios/catalogue/) and ``ocpp-harness list --coverage``: the
library agrees with it, and every kind of disagreement is reported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.cli import main
from harness.exitcodes import ExitCode
from harness.runner.coverage import CaseRef, coverage_of, library_coverage, render_coverage
from harness.scenario import ScenarioLoadError
from harness.scenario.catalogue import EntryStatus, Side, load_catalogue_dir, load_catalogue_file

ROOT = Path(__file__).resolve().parents[2] / "scenarios"


BLOCK = """\
block: test-block
title: Test block
ocpp_version: "2.0.1"
document: a document
title_sources: {src: somewhere}
cases:
  - {id: TC_K_01_CS, side: station, status: implemented, title: One, title_source: src}
  - {id: TC_K_02_CS, side: station, status: missing, title: Two, title_source: src}
  - {id: TC_K_01_CSMS, side: csms, status: not_applicable, title: Three, title_source: src,
     reason: needs a lab}
"""


def _ref(case_id: str, file: str, *versions: str) -> CaseRef:
    return CaseRef(case_id, file, versions or ("2.0.1",))


def test_an_id_names_one_case_per_ocpp_version(tmp_path: Path) -> None:
    # OCA reuses TC_K_nn in 2.0.1 and 2.1: a 2.0.1 file implements only the 2.0.1 entry.
    path = _block(tmp_path)
    path.with_name("v21.yaml").write_text(
        BLOCK.replace("block: test-block", "block: test-21")
        .replace('"2.0.1"', '"2.1"')
        .replace("status: implemented", "status: missing"),
        encoding="utf-8",
    )
    blocks = load_catalogue_dir(path.parent)
    coverage = coverage_of(blocks, [_ref("TC_K_01_CS", "a.yaml")])
    assert coverage.problems == ()
    by_block = {(r.block.block, r.entry.id): r.files for r in coverage.rows}
    assert by_block[("test-block", "TC_K_01_CS")] == ("a.yaml",)
    assert by_block[("test-21", "TC_K_01_CS")] == ()
    only_21 = coverage_of(blocks, [_ref("TC_K_01_CS", "a.yaml", "2.1")])
    assert any("TC_K_01_CS is marked missing but a.yaml" in p for p in only_21.problems)
    # the same id twice in blocks of one version is a problem
    path.with_name("again.yaml").write_text(BLOCK.replace("test-block", "again"), "utf-8")
    with pytest.raises(ScenarioLoadError, match="TC_K_01_CS is in blocks again and test-block"):
        load_catalogue_dir(path.parent)


def _block(tmp_path: Path, text: str = BLOCK) -> Path:
    folder = tmp_path / "catalogue"
    folder.mkdir(exist_ok=True)
    path = folder / "block.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_library_agrees_with_its_catalogue() -> None:
    coverage = library_coverage(ROOT)
    assert list(coverage.problems) == []
    counts = {(c.title, str(c.side)): (c.official, c.implemented) for c in coverage.counts}
    assert counts[("OCPP 1.6 Smart Charging", "station")] == (10, 10)
    assert counts[("OCPP 1.6 Smart Charging", "csms")] == (5, 5)
    # issue 18 point 4: the 1.6 Core remote start/stop and meter-values cases beside them
    assert counts[("OCPP 1.6 Core: remote start/stop, meters", "station")] == (9, 9)
    assert counts[("OCPP 1.6 Core: remote start/stop, meters", "csms")] == (6, 6)
    assert counts[("OCPP 2.0.1 block K (Smart Charging)", "station")][0] == 44
    assert counts[("OCPP 2.0.1 block K (Smart Charging)", "csms")][0] == 32
    assert counts[("OCPP 2.1 block K (Smart Charging)", "station")][0] == 76
    assert counts[("OCPP 2.1 block K (Smart Charging)", "csms")][0] == 45
    # every implemented entry has its case file, named after the id
    for row in coverage.rows:
        if row.entry.status is EntryStatus.IMPLEMENTED:
            assert [Path(f).stem for f in row.files] == [row.entry.id]


def test_every_entry_names_its_source_and_side() -> None:
    for block in load_catalogue_dir(ROOT / "catalogue"):
        for entry in block.cases:
            assert entry.title_source in block.title_sources
            assert entry.side is (Side.CSMS if entry.id.endswith("_CSMS") else Side.STATION)


def test_coverage_reports_each_disagreement(tmp_path: Path) -> None:
    (block,) = load_catalogue_dir(_block(tmp_path).parent)
    good = coverage_of([block], [_ref("TC_K_01_CS", "a.yaml"), _ref("VP-01", "vp.yaml")])
    assert good.problems == ()
    assert good.ours == ("VP-01",)
    assert [
        (c.side, c.official, c.implemented, c.not_applicable, c.missing) for c in good.counts
    ] == [(Side.STATION, 2, 1, 0, 1), (Side.CSMS, 1, 0, 1, 0)]
    bad = coverage_of(
        [block],
        [_ref("TC_K_02_CS", "two.yaml"), _ref("TC_K_99_CS", "x.yaml"), _ref("TC_K_01_CSMS", "c")],
    )
    text = "\n".join(bad.problems)
    assert "TC_K_01_CS is marked implemented but no case file has this id" in text
    assert "TC_K_02_CS is marked missing but two.yaml has this id" in text
    assert "x.yaml: case id TC_K_99_CS looks official" in text
    assert "TC_K_01_CSMS is marked not_applicable but c has this id" in text
    assert len(bad.problems) == 4
    lines = render_coverage(bad)
    assert any(line.startswith("inconsistent: ") for line in lines)
    assert any("reason: needs a lab" in line for line in lines)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("status: missing", "status: done"), "cases[1].status"),
        (("reason: needs a lab", "note: needs a lab"), "cases[2].reason: expected a reason"),
        (("title_source: src}", "title_source: elsewhere}"), "cases[0].title_source"),
        (("id: TC_K_02_CS, side: station", "id: TC_K_02_CS, side: csms"), "cases[1].side"),
        (("id: TC_K_02_CS", "id: TC_K_01_CS"), "TC_K_01_CS is listed twice"),
    ],
)
def test_a_bad_catalogue_file_names_file_line_and_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    path = _block(tmp_path, BLOCK.replace(*change, 1))
    with pytest.raises(ScenarioLoadError) as caught:
        load_catalogue_file(path)
    (problem,) = [p for p in caught.value.problems if expected in str(p)]
    assert str(problem).startswith(f"{path}:")
    assert problem.location.line > 1


def test_list_coverage_prints_the_table_and_counts(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["list", "--coverage"])
    out = capsys.readouterr().out
    assert "TC_K_03_CS" in out
    assert "Set Charging Profile - ChargingStationMaxProfile" in out
    assert "OCPP 1.6 Smart Charging                  station        10          10" in out
    assert "ours (not OCA ids):" in out
    assert code == ExitCode.OK


def test_list_coverage_exits_2_on_a_disagreement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _block(tmp_path)
    (tmp_path / "TC_K_02_CS.yaml").write_text(
        (ROOT / "ocpp201" / "TC_K_02_CS.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    monkeypatch.setitem(os.environ, "OCPP_HARNESS_SCENARIOS", str(tmp_path))
    assert main(["list", "--coverage"]) == ExitCode.BAD_INPUT
    out = capsys.readouterr().out
    assert "TC_K_01_CS is marked implemented but no case file has this id" in out
    assert "TC_K_02_CS is marked missing but" in out
