"""JUnit XML for CI: one ``<testsuite>`` per suite, one ``<testcase>`` per case run.

Mapping (the common JUnit XML schema): FAIL → ``<failure>``; ERROR (a defect of the harness)
→ ``<error>``; INCONCLUSIVE (the harness could not judge: nothing is known to be wrong with the
device, nor with the harness) → ``<skipped type="INCONCLUSIVE">`` with the reason and the
explanation, and counted apart in each suite's ``inconclusive`` property; NOT_APPLICABLE →
``<skipped>``; NON_STRICT → ``<failure>`` when strict, else a pass with the broken SHOULD in
``<system-out>``. The ``message`` attribute is the case's one-line reason
(``<requirement> (MUST): expected …; actual …``); the element's text gives Requirement /
Expected / Actual for every check that did not pass. The CLI's exit status (3 for an
inconclusive-only run) keeps a CI job from going green on it.

Each suite's properties name the run, the strictness, the devices of the run (with their
identity attributes: vendor, model, serial, firmware, where known) and ``run_finished``. A run
that did not finish (``run.json`` has no ``finished_at``) gets one more suite,
``ocpp-harness``, holding a ``run did not finish`` test case with an ``<error
type="INCOMPLETE_RUN">``, so a CI dashboard shows it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from pathlib import Path

from harness.results import CaseResult, Summary, Verdict
from harness.results._json import dump_time
from reports.model import Report, case_href

__all__ = ["junit_xml", "write_junit"]

_XML_UNSAFE = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    """XML 1.0 cannot carry most control characters, even escaped: show them as ``\\xNN``."""
    return _XML_UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def _explain(result: CaseResult, verdicts: Iterable[Verdict]) -> str:
    wanted = set(verdicts)
    lines = [f"{result.info.case_id} [{result.key}]: {result.verdict.value} -- {result.reason}"]
    for check in result.checks:
        if check.verdict in wanted:
            lines.append(f"- {check.verdict.value}")
            lines.extend(f"    {line}" for line in check.explain().splitlines())
            if check.detail:
                lines.append(check.detail)
    stop = result.interruption
    if stop is not None and stop.detail:
        lines.append(stop.detail)
    lines.append(f"evidence: {case_href(result.key)}")
    return "\n".join(lines)


def _testcase(parent: ET.Element, result: CaseResult, *, strict: bool) -> None:
    devices = " + ".join(d.id for d in result.info.devices)
    case = ET.SubElement(
        parent,
        "testcase",
        {
            "name": _text(f"{result.info.case_id} [{devices}]"),
            "classname": _text(f"{result.info.suite}.{result.info.category}"),
            "time": f"{result.wall_duration_s:.3f}",
        },
    )
    verdict = result.verdict
    effective = result.effective_verdict(strict=strict)
    reason = _text(result.reason)
    if effective is Verdict.FAIL:
        el = ET.SubElement(case, "failure", {"message": reason, "type": verdict.value})
        el.text = _text(_explain(result, (Verdict.FAIL, Verdict.NON_STRICT)))
    elif verdict is Verdict.ERROR:
        el = ET.SubElement(case, "error", {"message": reason, "type": verdict.value})
        el.text = _text(_explain(result, (Verdict.ERROR, Verdict.INCONCLUSIVE, Verdict.FAIL)))
    elif verdict is Verdict.INCONCLUSIVE:
        el = ET.SubElement(
            case,
            "skipped",
            {"message": _text(f"INCONCLUSIVE: {result.reason}"), "type": "INCONCLUSIVE"},
        )
        el.text = _text(_explain(result, (Verdict.INCONCLUSIVE, Verdict.FAIL)))
    elif verdict is Verdict.NOT_APPLICABLE:
        ET.SubElement(case, "skipped", {"message": reason})
    elif verdict is Verdict.NON_STRICT:
        out = ET.SubElement(case, "system-out")
        out.text = _text(
            "passed with a broken SHOULD (not strict)\n" + _explain(result, (verdict,))
        )


def _counts(element: ET.Element, summary: Summary, seconds: float) -> None:
    element.set("tests", str(summary.total))
    element.set("failures", str(summary.failed))
    element.set("errors", str(summary.errors))
    element.set("skipped", str(summary.skipped + summary.inconclusive))
    element.set("time", f"{seconds:.3f}")


def _properties(report: Report, summary: Summary) -> list[tuple[str, str]]:
    manifest = report.manifest
    props = [
        ("run_id", manifest.run_id),
        ("harness_version", manifest.harness_version),
        ("strict", str(report.strict).lower()),
        ("run_finished", str(manifest.finished_at is not None).lower()),
        ("inconclusive", str(summary.inconclusive)),
    ]
    declaration = manifest.options.get("capabilities")
    if isinstance(declaration, Mapping):
        for key in ("name", "file"):
            if declaration.get(key):
                props.append((f"capabilities.{key}", str(declaration[key])))
    for device in manifest.devices:
        prefix = f"device.{device.kind.value}.{device.id}"
        if device.label:
            props.append((prefix, device.label))
        props.extend(
            (f"{prefix}.{name}", str(value))
            for name, value in sorted(device.attributes.items())
            if value is not None
        )
    return props


INCOMPLETE_NOTE = (
    "the run did not finish (run.json has no finished_at): it crashed, was killed or is still "
    "going, so cases may be missing"
)


def _incomplete_suite(root: ET.Element, report: Report) -> None:
    """The ``ocpp-harness`` suite that marks a run which did not finish."""
    manifest = report.manifest
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": "ocpp-harness",
            "id": str(len(root)),
            "timestamp": dump_time(manifest.started_at).rstrip("Z"),
            "hostname": _text(manifest.target),
            "tests": "1",
            "failures": "0",
            "errors": "1",
            "skipped": "0",
            "time": "0.000",
        },
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "run_finished", "value": "false"})
    case = ET.SubElement(
        suite,
        "testcase",
        {"name": "run did not finish", "classname": "ocpp-harness.run", "time": "0.000"},
    )
    el = ET.SubElement(case, "error", {"message": INCOMPLETE_NOTE, "type": "INCOMPLETE_RUN"})
    el.text = _text(f"{INCOMPLETE_NOTE}; {len(report.results)} case result(s) stored")
    root.set("errors", str(int(root.get("errors", "0")) + 1))
    root.set("tests", str(int(root.get("tests", "0")) + 1))


def junit_xml(report: Report) -> bytes:
    """The report as JUnit XML (UTF-8, with an XML declaration)."""
    manifest = report.manifest
    root = ET.Element("testsuites", {"name": _text(f"ocpp-harness run {manifest.run_id}")})
    _counts(root, report.summary, sum(r.wall_duration_s for r in report.results))
    by_suite: dict[str, list[CaseResult]] = {}
    for result in report.results:
        by_suite.setdefault(result.info.suite, []).append(result)
    for i, (suite, results) in enumerate(by_suite.items()):
        element = ET.SubElement(
            root,
            "testsuite",
            {
                "name": _text(suite),
                "id": str(i),
                "timestamp": dump_time(min(r.started_at for r in results)).rstrip("Z"),
                "hostname": _text(manifest.target),
            },
        )
        summary = Summary.of((r.verdict for r in results), strict=report.strict)
        _counts(element, summary, sum(r.wall_duration_s for r in results))
        props = ET.SubElement(element, "properties")
        for name, value in _properties(report, summary):
            ET.SubElement(props, "property", {"name": name, "value": _text(value)})
        for result in results:
            _testcase(element, result, strict=report.strict)
    if manifest.finished_at is None:
        _incomplete_suite(root, report)
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def write_junit(report: Report, path: Path) -> Path:
    """Write :func:`junit_xml` to ``path``; return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(junit_xml(report))
    return path
