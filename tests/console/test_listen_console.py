"""``run --target listen --console``: the console follows the one station's run, and its
prompts are answered through the console (as the page's buttons do)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp

from harness.console import ANSWERS_FILE
from harness.results import RunStore, Verdict
from tests.lab.processes import Child

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "lab" / "scenarios"
CAPABILITIES = REPO / "tests" / "lab" / "sim-station.yaml"


async def _operate(console: str, events: list[dict[str, Any]]) -> None:
    """Read the event stream; answer every prompt yes."""
    async with aiohttp.ClientSession() as http, http.get(console + "events") as stream:
        async for raw in stream.content:
            line = raw.decode()
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            events.append(event)
            if event["type"] == "prompt":
                async with http.post(
                    f"{console}api/prompts/{event['id']}",
                    json={"answer": True},
                    headers={"X-Console": "answer"},
                ) as answer:
                    assert answer.status == 200


async def test_listen_run_with_the_console(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    run = await Child.start(
        "run",
        str(CASES),
        "--target",
        "listen",
        "127.0.0.1:0",
        "--capabilities",
        str(CAPABILITIES),
        "--console",
        "--out",
        str(out),
    )
    station: Child | None = None
    events: list[dict[str, Any]] = []
    operator: asyncio.Task[None] | None = None
    try:
        console = (await run.wait_for_line(r"^Console: (http://\S+)", timeout_s=30)).group(1)
        operator = asyncio.create_task(_operate(console, events))
        url = (await run.wait_for_line(r"at (ws://\S+)/<station-id>", timeout_s=30)).group(1)
        station = await Child.start(
            "simulate", "--csms", url, "--no-auto-start", "--meter-interval", "0",
            "--stagger", "0", "--id-prefix", "LIS-", "--ocpp", "2.0.1",
        )  # fmt: skip
        assert await run.wait(timeout_s=60) == 0, run.output
    finally:
        if operator is not None:
            operator.cancel()
        for child in (run, station):
            if child is not None:
                await child.stop()

    stations = [e for e in events if e["type"] == "station"]
    assert any(
        (e["station"], e["vendor"], e["model"], e["ocpp"], e["connected"])
        == ("LIS-1", "ocpp-harness", "SimStation", "2.0.1", True)
        for e in stations
    ), stations
    assert [(e["station"], e["case"], e["verdict"]) for e in events if e["type"] == "verdict"] == [
        ("LIS-1", "LAB_01", "PASS")
    ]
    assert [e["kind"] for e in events if e["type"] == "step"] == [
        "prompt",
        "prompt",
        "wait",
        "clear_profile",
    ]
    (folder,) = out.iterdir()
    assert [r.verdict for r in RunStore.open(folder).results()] == [Verdict.PASS]
    answers = [json.loads(line) for line in (folder / ANSWERS_FILE).read_text().splitlines()]
    assert [(a["id"], a["by"], a["answer"]) for a in answers] == [
        ("LIS-1-1", "browser", True),
        ("LIS-1-2", "browser", True),
    ]
