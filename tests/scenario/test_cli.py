"""``ocpp-harness scenario validate | schema | select``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cli import main
from tests.scenario.conftest import MINIMAL

DATA = Path(__file__).parent / "data"
CASES = DATA / "cases"
DUT = DATA / "capabilities" / "sim-ac-station-16.yaml"


def test_validate_prints_ok_per_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "validate", str(CASES)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"OK {CASES / 'tc_066_cs.yaml'} (1 case)",
        f"OK {CASES / 'tc_k_41_cs.yaml'} (1 case)",
        f"OK {CASES / 'vp_04.yaml'} (1 case)",
        f"OK {CASES / 'vp_09.yaml'} (1 case)",
        "4 of 4 files OK",
    ]


def test_validate_prints_every_error_and_fails(
    write: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(MINIMAL.replace("duration_s: 1", "duration_s: soon") + "x: 1\n", "bad.yaml")
    good = write(MINIMAL.replace("TC_T", "TC_GOOD"), "good.yaml")
    assert main(["scenario", "validate", str(bad), str(good)]) == 2
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines[0].startswith(f"{bad}:8:17: steps[0].wait.duration_s: expected a number")
    assert lines[1].startswith(f"{bad}:9:1: x: unknown field 'x'")
    assert lines[2] == f"OK {good} (1 case)"
    assert lines[3] == "1 of 2 files OK"


def test_validate_checks_parameter_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scenario", "validate", str(CASES), "--param", "pause_s=a while"])
    assert code == 2
    out = capsys.readouterr().out
    assert "--param pause_s=a while: pause_s: expected a duration" in out
    assert main(["scenario", "validate", str(CASES), "--param", "pause_s=6h"]) == 0


def test_validate_of_a_missing_path_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scenario", "validate", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file or directory" in capsys.readouterr().out


def test_schema_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "Case" in schema["$defs"]
    assert main(["scenario", "schema", "--capabilities"]) == 0
    assert "max_stack_level" in json.loads(capsys.readouterr().out)["properties"]


def test_select_explains_not_applicable(
    write: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    v2x = write(MINIMAL.replace("TC_T", "TC_V2X") + "needs: [v2x]\n", "v2x.yaml")
    assert main(["scenario", "select", str(CASES), str(v2x), "--capabilities", str(DUT)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "TC_066_CS: runnable (OCPP 1.6)",
        "TC_K_41_CS: NOT_APPLICABLE — applies to OCPP 2.0.1; the DUT declares 1.6",
        "VP-04: runnable (OCPP 1.6)",
        "VP-09: runnable (OCPP 1.6)",
        "TC_V2X: NOT_APPLICABLE — needs v2x; the declaration says v2x: false (or omits it)",
        "3 runnable, 2 not applicable",
    ]


def test_select_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scenario", "select", str(CASES), "--capabilities", str(DUT), "--lab", "--json"])
    assert code == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["case"], r["runnable"], r["versions"]) for r in records] == [
        ("TC_066_CS", True, ["1.6"]),
        ("TC_K_41_CS", False, []),
        ("VP-04", True, ["1.6"]),
        ("VP-09", True, ["1.6"]),
    ]
