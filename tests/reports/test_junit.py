"""JUnit XML: parsed back with xml.etree and checked against the common JUnit XML schema
(the Ant/Jenkins shape: testsuites > testsuite > properties?, testcase*, with at most one
failure / error / skipped per testcase), counts, and Expected/Actual in the messages."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.results import CaseResult, CheckResult, DeviceKind, DeviceRef, Manifest, Verdict
from harness.transport.base import OcppSubprotocol
from reports import ReportFormat, build_report, junit_xml, load_report

from .builders import CP1, MUST, T0, ev, result, store_run

INT = re.compile(r"^\d+$")
DECIMAL = re.compile(r"^\d+(\.\d+)?$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")
OUTCOMES = {"failure", "error", "skipped"}


def check_counts(element: ET.Element) -> None:
    for name in ("tests", "failures", "errors", "skipped"):
        assert INT.match(element.get(name, "")), f"{element.tag}@{name}={element.get(name)!r}"
    assert DECIMAL.match(element.get("time", "")), f"{element.tag}@time"


def assert_junit_schema(root: ET.Element) -> None:
    """The structure the common JUnit XML schema prescribes, and consistent counts."""
    assert root.tag == "testsuites"
    assert set(root.attrib) <= {
        "name",
        "tests",
        "failures",
        "errors",
        "skipped",
        "time",
        "disabled",
    }
    check_counts(root)
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root:
        assert suite.tag == "testsuite"
        assert {"name", "tests", "failures", "errors", "time"} <= set(suite.attrib)
        assert set(suite.attrib) <= {
            "name",
            "tests",
            "failures",
            "errors",
            "skipped",
            "time",
            "timestamp",
            "hostname",
            "id",
            "package",
            "disabled",
        }
        assert DATETIME.match(suite.get("timestamp", "")), suite.get("timestamp")
        check_counts(suite)
        tags = [child.tag for child in suite]
        assert set(tags) <= {"properties", "testcase", "system-out", "system-err"}
        if "properties" in tags:
            assert tags.index("properties") == 0
            assert tags.count("properties") == 1
            for prop in suite.find("properties") or []:
                assert prop.tag == "property"
                assert set(prop.attrib) == {"name", "value"}
        cases = suite.findall("testcase")
        counts = dict.fromkeys(("failure", "error", "skipped"), 0)
        for case in cases:
            assert {"name", "classname", "time"} <= set(case.attrib)
            assert DECIMAL.match(case.get("time", ""))
            kids = [child.tag for child in case]
            assert set(kids) <= OUTCOMES | {"system-out", "system-err"}
            outcome = [k for k in kids if k in OUTCOMES]
            assert len(outcome) <= 1, f"{case.get('name')}: {outcome}"
            for k in outcome:
                counts[k] += 1
                el = case.find(k)
                assert el is not None
                assert el.get("message"), f"{case.get('name')}: {k} without a message"
                if k != "skipped":
                    assert el.get("type")
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == counts["failure"]
        assert int(suite.get("errors", "-1")) == counts["error"]
        assert int(suite.get("skipped", "-1")) == counts["skipped"]
        for name in totals:
            totals[name] += int(suite.get(name, "0"))
    for name, total in totals.items():
        assert int(root.get(name, "-1")) == total, name


def case_named(root: ET.Element, prefix: str) -> ET.Element:
    found = [c for c in root.iter("testcase") if c.get("name", "").startswith(prefix)]
    assert len(found) == 1, [c.get("name") for c in found]
    return found[0]


def test_junit_structure_counts_and_mapping(rendered: dict[ReportFormat, Path]) -> None:
    root = ET.parse(rendered[ReportFormat.JUNIT]).getroot()
    assert_junit_schema(root)
    assert [s.get("name") for s in root] == ["vehicle-programme", "oca-2.0.1"]
    # 11 cases: FAIL x2 (failures), ERROR (errors), 2 NOT_APPLICABLE + INCONCLUSIVE (skipped)
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "11",
        "2",
        "1",
        "3",
    )
    fail = case_named(root, "VP-01 [CP-1 + ev-b]")
    failure = fail.find("failure")
    assert failure is not None
    assert failure.get("type") == "FAIL"
    assert failure.get("message") == (
        "K01.FR.31 (MUST): expected <= 6 A within 15 s; actual 16 A after 15 s"
    )
    assert "Expected: <= 6 A within 15 s" in (failure.text or "")
    assert "Actual: 16 A after 15 s" in (failure.text or "")
    assert fail.get("classname") == "vehicle-programme.smart-charging"
    error = case_named(root, "TC_066_CS [CP-2]").find("error")
    assert error is not None
    assert error.get("type") == "ERROR"
    assert "RuntimeError: bug in check" in (error.get("message") or "")
    inconclusive = case_named(root, "VP-01 [CP-2 + ev-b]").find("skipped")
    assert inconclusive is not None
    assert inconclusive.get("type") == "INCONCLUSIVE"
    assert (inconclusive.get("message") or "").startswith("INCONCLUSIVE: ")
    vp = next(s for s in root if s.get("name") == "vehicle-programme")
    props = {p.get("name"): p.get("value") for p in vp.iter("property")}
    assert props["inconclusive"] == "1"
    assert props["run_finished"] == "true"
    skipped = case_named(root, "VP-14 [CP-1 + ev-b]").find("skipped")
    assert skipped is not None
    assert "capability declaration" in (skipped.get("message") or "")
    non_strict = case_named(root, "VP-01 [CP-1 + ev-c]")
    assert [c.tag for c in non_strict] == ["system-out"]
    assert "Expected: >= 12.8 A" in (non_strict.findtext("system-out") or "")


def test_strict_junit_turns_non_strict_into_a_failure(sample_run: Path) -> None:
    root = ET.fromstring(junit_xml(load_report(sample_run, strict=True)))
    assert_junit_schema(root)
    failure = case_named(root, "VP-01 [CP-1 + ev-c]").find("failure")
    assert failure is not None
    assert failure.get("type") == "NON_STRICT"
    assert "Actual: 9 A" in (failure.text or "")
    assert root.get("failures") == "3"


def test_control_characters_from_a_device_still_give_well_formed_xml() -> None:
    bad = CheckResult.failed(MUST, expected="Accepted", actual="garbage \x00\x01 <&>")
    base = result("VP-01", (CP1, ev("ev-a")), Verdict.PASS)
    case = CaseResult(base.info, base.started_at, base.finished_at, 0.1, checks=(bad,))
    manifest = Manifest(
        run_id="r", started_at=T0, target="sim", ocpp_versions=(OcppSubprotocol.V201,)
    )
    root = ET.fromstring(junit_xml(build_report(manifest, [case])))
    assert_junit_schema(root)
    failure = root.find("./testsuite/testcase/failure")
    assert failure is not None
    assert "garbage \\x00\\x01 <&>" in (failure.get("message") or "")


def test_an_unfinished_run_is_marked(tmp_path: Path) -> None:
    run = store_run(tmp_path, [result("VP-01", (CP1, ev("ev-a")), Verdict.PASS)], finished=False)
    root = ET.fromstring(junit_xml(load_report(run)))
    assert_junit_schema(root)
    marker = case_named(root, "run did not finish").find("error")
    assert marker is not None
    assert marker.get("type") == "INCOMPLETE_RUN"
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["run_finished"] == "false"
    assert root.get("errors") == "1"


def test_device_identity_and_declaration_are_properties() -> None:
    station = DeviceRef(
        DeviceKind.STATION,
        "CP-9",
        "Acme Wallbox",
        {"vendor": "Acme", "model": "Wallbox", "firmware": "3.1.4", "serial": "A-1"},
    )
    manifest = Manifest(
        run_id="r",
        started_at=T0,
        target="listen ws://127.0.0.1:9000",
        ocpp_versions=(OcppSubprotocol.V201,),
        options={"capabilities": {"file": "acme.yaml", "name": "Acme AC"}},
        devices=(station,),
    )
    case = result("TC_K_01_CS", (station,), Verdict.PASS, suite="oca-2.0.1")
    root = ET.fromstring(junit_xml(build_report(manifest, [case])))
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["device.station.CP-9"] == "Acme Wallbox"
    assert props["device.station.CP-9.firmware"] == "3.1.4"
    assert props["device.station.CP-9.serial"] == "A-1"
    assert props["capabilities.file"] == "acme.yaml"
    assert props["capabilities.name"] == "Acme AC"
