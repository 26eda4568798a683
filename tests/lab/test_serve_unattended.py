"""``ocpp-harness serve --unattended``: nobody at the station. A simulated station (its own
process) runs LAB_01 (its first step an acknowledgement): no prompt is asked on the
terminal, each is printed and recorded unanswered on a line of its own, the case is
INCONCLUSIVE (exit 3), and the console still shows the run as it happens."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import aiohttp

from harness.results import RunStore, Verdict
from tests.lab.processes import Child

HERE = Path(__file__).parent


async def _console_events(url: str, events: list[dict[str, object]]) -> None:
    """Everything the console streams to a browser, until it closes."""
    async with aiohttp.ClientSession() as session, session.get(f"{url}/events") as response:
        assert response.status == 200
        async for raw in response.content:
            line = raw.decode().strip()
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))


async def test_serve_unattended_asks_nobody_and_the_console_shows_the_run(
    tmp_path: Path,
) -> None:
    out = tmp_path / "runs"
    serve = await Child.start(
        "serve",
        str(HERE / "scenarios"),
        "--port",
        "0",
        "--capabilities",
        str(HERE / "sim-station.yaml"),
        "--stations",
        "1",
        "--unattended",
        "--out",
        str(out),
        stdin=b"\n\ny\ny\n",  # typed answers must not be read: nobody is there
    )
    station: Child | None = None
    events: list[dict[str, object]] = []
    watcher: asyncio.Task[None] | None = None
    try:
        console = (await serve.wait_for_line(r"Console: (http://\S+)", timeout_s=120)).group(1)
        url = (await serve.wait_for_line(r"at (ws://\S+)/<station-id>", timeout_s=120)).group(1)
        watcher = asyncio.create_task(_console_events(console.rstrip("/"), events))
        station = await Child.start(
            "simulate", "--csms", url, "--no-auto-start", "--meter-interval", "0",
            "--id-prefix", "LAB-U", "--ocpp", "1.6",
        )  # fmt: skip
        code = await serve.wait(timeout_s=180)
        assert await station.wait(timeout_s=120) == 0, station.output
        await asyncio.wait_for(watcher, 30)  # the stream ends when serve closes its console
    finally:
        if watcher is not None:
            watcher.cancel()
        for child in (serve, *([station] if station else [])):
            await child.stop()

    assert code == 3, serve.output  # INCONCLUSIVE only
    assert "unanswered (--unattended)" in serve.output
    assert ">>>" not in serve.output  # nothing asked on the terminal
    # Each prompt is a line of its own, saying nobody answered.
    lines = serve.output.splitlines()
    assert "[LAB-U1] Plug the vehicle in at EVSE 1: no answer (nobody)" in lines
    assert any(re.fullmatch(r"\[LAB-U1\] LAB_01: INCONCLUSIVE.*", line) for line in lines)

    [run] = [p for p in out.iterdir() if p.is_dir()]
    stored = RunStore.open(run)
    assert [(r.info.case_id, r.verdict) for r in stored.results()] == [
        ("LAB_01", Verdict.INCONCLUSIVE)
    ]
    assert stored.manifest.options["unattended"] is True
    answers = [json.loads(line) for line in (run / "operator-answers.jsonl").open()]
    assert answers
    assert all((a["by"], a["answer"]) == ("nobody", None) for a in answers)
    assert answers[0]["message"] == "Plug the vehicle in at EVSE 1"

    # The console showed the station and its verdict, and offered it no prompt to answer.
    kinds = {(e["type"], e.get("station")) for e in events}
    assert ("station", "LAB-U1") in kinds, events
    assert {
        "type": "verdict",
        "station": "LAB-U1",
        "case": "LAB_01",
        "verdict": "INCONCLUSIVE",
    }.items() <= next(e for e in events if e["type"] == "verdict").items()
    assert not [e for e in events if e["type"] in {"prompt", "answered"}]


async def test_serve_unattended_refuses_an_mqtt_operator(tmp_path: Path) -> None:
    serve = await Child.start(
        "serve", "--port", "0", "--capabilities", str(HERE / "sim-station.yaml"),
        "--unattended", "--operator-mqtt", "mqtt://127.0.0.1:1", "--out", str(tmp_path),
    )  # fmt: skip
    try:
        assert await serve.wait(timeout_s=60) == 2, serve.output
    finally:
        await serve.stop()
    assert "--unattended and --operator-mqtt" in serve.output
