"""``ocpp-harness run`` / ``list``: summary line, recap, exit codes, input errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import harness.runner.simstation as simstation
from harness.cli import main
from harness.results import RunStore, Verdict
from tests.runner.cli_child import fake_factory

DATA = Path(__file__).parents[1] / "scenario" / "data"
TC066 = DATA / "cases" / "tc_066_cs.yaml"


@pytest.fixture
def install(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def use(fault: str) -> None:
        monkeypatch.setattr(simstation, "builtin_factory", fake_factory(fault))

    return use


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def one_vehicle(tmp_path: Path) -> str:
    fleet = tmp_path / "one.yaml"
    fleet.write_text(
        "synthetic: true\nname: one\nmodels:\n"
        "  - {id: ev1, label: EV 1, archetype: bev_3ph_16a, market_share: 100}\n"
    )
    return str(fleet)


def run_folder(out: str) -> Path:
    match = re.search(r"^Run folder: (.+)$", out, re.MULTILINE)
    assert match is not None, out
    return Path(match.group(1))


def test_run_passes_with_summary_line_and_exit_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], install
) -> None:
    install("ok")
    code, out, _ = run(
        capsys,
        "run",
        str(TC066),
        "--speed",
        "50",
        "--out",
        str(tmp_path / "r"),
        "--fleet",
        one_vehicle(tmp_path),
    )
    assert code == 0, out
    assert "\n1 passed, 0 failed, 0 inconclusive, 0 skipped, 0 errors" in out
    assert re.search(r"^\[1/1\] TC_066_CS\s+SIM-\S+\s+PASS\s+clock", out, re.MULTILINE)
    reader = RunStore.open(run_folder(out))
    assert reader.finished
    assert [d.id for d in reader.manifest.devices] == ["SIM-1.6", "ev1"]
    assert [r.verdict for r in reader.results()] == [Verdict.PASS]
    # the run writes its HTML report and JUnit XML and names them
    index = re.search(r"^Report: (.+)$", out, re.MULTILINE)
    junit = re.search(r"^JUnit: (.+)$", out, re.MULTILINE)
    assert index is not None, out
    assert junit is not None, out
    assert Path(index.group(1)) == run_folder(out) / "report" / "index.html"
    assert "TC_066_CS" in Path(index.group(1)).read_text(encoding="utf-8")
    assert 'tests="1"' in Path(junit.group(1)).read_text(encoding="utf-8")


def test_faulty_station_fails_with_recap_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], install
) -> None:
    install("empty_composite")
    code, out, _ = run(
        capsys,
        "run",
        str(TC066),
        "--speed",
        "50",
        "--out",
        str(tmp_path / "r"),
        "--fleet",
        one_vehicle(tmp_path),
    )
    assert code == 1
    assert "0 passed, 1 failed, 0 inconclusive, 0 skipped, 0 errors" in out
    recap = out.split("Recap of cases that did not pass:")[1]
    assert "Requirement: TC_066_CS (MUST)" in recap
    assert "Expected: EVSE 1 from" in recap
    assert "Actual:" in recap


def test_not_applicable_counts_as_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], install
) -> None:
    install("ok")
    caps = tmp_path / "caps.yaml"
    caps.write_text('ocpp_versions: ["1.6"]\nrole: station\nsmart_charging: false\n')
    code, out, _ = run(
        capsys,
        "run",
        str(TC066),
        "--capabilities",
        str(caps),
        "--out",
        str(tmp_path / "r"),
        "--fleet",
        one_vehicle(tmp_path),
    )
    assert code == 0
    assert "0 passed, 0 failed, 0 inconclusive, 1 skipped, 0 errors" in out
    assert "NOT_APPLICABLE" in out


def test_list_shows_ids_versions_titles_requirements(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", str(DATA / "cases"))
    assert code == 0
    assert re.search(r"^TC_066_CS\s+1\.6\s+Composite schedule combines", out, re.MULTILINE)
    assert "requirements: TC_066_CS (MUST), GetCompositeSchedule (MUST)" in out
    assert re.search(r"^TC_K_41_CS\s+2\.0\.1\s+", out, re.MULTILINE)
    assert out.rstrip().endswith("4 case(s)")


def test_bad_scenario_file_exits_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: X1\ntitle: t\nsuite: s\nocpp_versions: ['1.6']\ndut_role: station\n"
        "steps:\n  - kind: sned\n"
    )
    code, out, err = run(capsys, "run", str(bad), "--out", str(tmp_path))
    assert code == 2
    assert f"{bad}:7" in err
    assert "Traceback" not in err + out


def test_bad_fleet_file_exits_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], install
) -> None:
    install("ok")
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "synthetic: true\nname: f\nmodels:\n"
        "  - {id: a, label: A, archetype: bev_3ph_16a, market_share: 50}\n"
        "  - {id: b, label: B, market_share: 50}\n"
    )
    code, _, err = run(capsys, "run", str(TC066), "--fleet", str(fleet), "--out", str(tmp_path))
    assert code == 2
    assert f"{fleet}:5" in err
    assert "archetype" in err


def test_bad_capabilities_and_unknown_param_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    caps = tmp_path / "caps.yaml"
    caps.write_text('ocpp_versions: ["1.6"]\nrole: station\nsmart_charging: maybe\n')
    code, _, err = run(capsys, "run", str(TC066), "--capabilities", str(caps))
    assert code == 2
    assert f"{caps}:3" in err
    code, _, err = run(capsys, "run", str(TC066), "--param", "no_such_param=3")
    assert code == 2
    assert "no_such_param" in err


def test_listen_needs_capabilities_and_an_address(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "run", str(TC066), "--target", "listen", "127.0.0.1:0")
    assert code == 2
    assert "--capabilities" in err
    code, _, err = run(capsys, "run", str(TC066), "--target", "listen")
    assert code == 2
    assert "HOST:PORT" in err


def test_listen_limits_are_checked_and_shown_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "run", str(TC066), "--max-rate", "0")
    assert code == 2
    assert "--max-rate" in err
    code, _, err = run(capsys, "run", str(TC066), "--max-frame-bytes", "-5")
    assert code == 2
    assert "--max-frame-bytes" in err
    code, out, _ = run(capsys, "run", "--help")
    assert code == 0
    assert "--max-rate" in out
    assert "4194304" in out  # the default size limit


def test_list_shows_each_cases_source(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue #14: the document and table a case reproduces, or "ours"."""
    root = Path(__file__).parents[2] / "scenarios"
    code, out, _ = run(capsys, "list", str(root / "ocpp16"), str(root / "vehicle-programme"))
    assert code == 0
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("TC_066_CS "))
    assert (
        "source: OCA OCPP 1.6 Compliancy Testing Tool TestCaseDocument (FINAL 2024-04)"
        in (lines[at + 2])
    )
    assert lines[at + 2].endswith("TC_066_CS, table 82")
    at = next(i for i, line in enumerate(lines) if line.startswith("VP-04 "))
    assert lines[at + 2].endswith("source: ours")


def test_a_port_in_use_is_a_one_line_error_and_no_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        caps = Path(__file__).parents[2] / "scenarios" / "capabilities" / "sim-station.yaml"
        argv = ["TC_066_CS", "--target", "listen", f"127.0.0.1:{port}"]
        argv += ["--capabilities", str(caps), "--out", str(tmp_path / "runs")]
        code, out, err = run(capsys, "run", *argv)
    assert code == 2
    assert err.strip().count("\n") == 0, err
    assert err.startswith(f"error: --target listen 127.0.0.1:{port}: cannot listen there:")
    assert "Traceback" not in out + err
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())
