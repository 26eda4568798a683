"""Issue #19: a listen run keeps its declaration cross-check in ``run.json``
(``options.declaration_check``) and shows it in the report and the JUnit properties.

``run --target listen --unattended`` (one short lab case) with a declaration whose
``max_periods`` the simulated station (``simulate``, its own process) contradicts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from harness.results import Manifest, RunStore, new_run_id
from harness.transport import OcppSubprotocol
from reports import write_reports
from tests.lab.processes import Child

ROOT = Path(__file__).parents[2]
CASE = ROOT / "tests" / "lab" / "scenarios" / "LAB_01.yaml"
DECLARATION = ROOT / "tests" / "lab" / "sim-station.yaml"


async def test_the_declaration_check_is_in_run_json_the_report_and_junit(
    tmp_path: Path,
) -> None:
    text = DECLARATION.read_text(encoding="utf-8")
    assert "max_periods: 24" in text
    declaration = tmp_path / "station.yaml"
    declaration.write_text(text.replace("max_periods: 24", "max_periods: 5"), encoding="utf-8")
    run = await Child.start(
        "run", str(CASE), "--target", "listen", "127.0.0.1:0", "--capabilities",
        str(declaration), "--unattended", "--out", str(tmp_path / "runs"),
    )  # fmt: skip
    station: Child | None = None
    try:
        port = (await run.wait_for_line(r"127\.0\.0\.1:(\d+)/<station-id>", timeout_s=120))[1]
        station = await Child.start(
            "simulate", "--csms", f"ws://127.0.0.1:{port}", "--no-auto-start", "--ocpp", "1.6"
        )
        code = await run.wait(timeout_s=180)
    finally:
        for child in (run, *([station] if station else [])):
            await child.stop()
    assert code == 3, run.output  # LAB_01's prompt unanswered: INCONCLUSIVE
    assert "warning: the declaration says max_periods: 5" in run.output

    [folder] = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    check = json.loads((folder / "run.json").read_text(encoding="utf-8"))["options"][
        "declaration_check"
    ]
    assert RunStore.open(folder).manifest.finished_at is not None
    assert check["status"] == "differs"
    assert check["station"]
    [difference] = [d for d in check["differences"] if "max_periods" in d]
    assert isinstance(difference, str)
    assert difference.startswith("the declaration says max_periods: 5; the station advertises 24")

    index = (folder / "report" / "index.html").read_text(encoding="utf-8")
    assert "differs from what the station advertises" in index
    assert "the declaration says max_periods: 5" in index
    junit = ET.parse(folder / "report" / "junit.xml").getroot()
    properties = [(p.get("name"), p.get("value")) for p in junit.iter("property")]
    assert ("declaration_check", "differs") in properties
    assert ("declaration_check.difference", difference) in properties


def test_unread_and_agreeing_checks_read_in_the_report(tmp_path: Path) -> None:
    """The other two states, rendered from a stored run (no station needed)."""
    now = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)
    for status, extra, shown in (
        ("agrees", {"differences": []}, "agrees with what the station advertises"),
        ("unread", {"error": "no answer in 10 s"}, "could not read what the station advertises"),
    ):
        manifest = Manifest(
            new_run_id(started_at=now),
            now,
            "listen ws://127.0.0.1:9000",
            (OcppSubprotocol.V16,),
            options={"declaration_check": {"status": status, "station": "CP1", **extra}},
        )
        with RunStore.create(tmp_path / status, manifest) as writer:
            writer.finish(finished_at=now)
        written = write_reports(writer.run_dir, tmp_path / status / "report", ["html"])
        index = next(iter(written.values())).read_text(encoding="utf-8")
        assert shown in index, status
        if status == "unread":
            assert "no answer in 10 s" in index
