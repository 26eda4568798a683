"""``ocpp-harness serve`` end to end: two simulated stations, each its own process, connect
at once; the operator's prompts are answered over a real MQTT broker."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import aiomqtt

from harness.results import RunStore, Verdict
from tests.conftest import Broker
from tests.lab.processes import Child

HERE = Path(__file__).parent
PREFIX = "lab-test/operator"


async def _answer(broker: Broker, seen: list[dict[str, object]], *, yes: bool) -> None:
    """The operator: acknowledge every prompt, answer every question with ``yes``. The first
    prompts are held until both stations have asked, so both runs are surely under way at
    once (however unevenly the two processes start on a loaded machine)."""
    held: list[tuple[str, dict[str, object]]] = []
    async with aiomqtt.Client(broker.host, port=broker.port) as client:
        await client.subscribe(f"{PREFIX}/prompt/+", qos=1)
        async for message in client.messages:
            if not message.payload:
                continue  # a cleared (answered) retained prompt
            assert isinstance(message.payload, bytes)
            prompt = json.loads(message.payload)
            seen.append({"topic": str(message.topic), **prompt})
            held.append((str(message.topic).rsplit("/", 1)[-1], prompt))
            if len({str(p["station"]) for p in seen}) < 2:
                continue
            for station, pending in held:
                answer = {"id": pending["id"], "answer": yes or pending["response"] == "ack"}
                await client.publish(f"{PREFIX}/ack/{station}", json.dumps(answer), qos=1)
            held.clear()


async def _serve_two(
    tmp_path: Path, mosquitto: Broker, *, yes: bool
) -> tuple[int, Child, list[dict[str, object]]]:
    out = tmp_path / "runs"
    seen: list[dict[str, object]] = []
    operator = asyncio.create_task(_answer(mosquitto, seen, yes=yes))
    serve = await Child.start(
        "serve",
        str(HERE / "scenarios"),
        "--port",
        "0",
        "--capabilities",
        str(HERE / "sim-station.yaml"),
        "--stations",
        "2",
        "--operator-mqtt",
        mosquitto.url,
        "--operator-prefix",
        PREFIX,
        "--out",
        str(out),
    )
    stations: list[Child] = []
    try:
        url = (await serve.wait_for_line(r"at (ws://\S+)/<station-id>", timeout_s=120)).group(1)
        common = ("--csms", url, "--no-auto-start", "--meter-interval", "0", "--stagger", "0")
        stations = list(
            await asyncio.gather(
                Child.start("simulate", *common, "--id-prefix", "LAB-A", "--ocpp", "1.6"),
                Child.start("simulate", *common, "--id-prefix", "LAB-B", "--ocpp", "2.0.1"),
            )
        )
        code = await serve.wait(timeout_s=180)
        for station in stations:
            assert await station.wait(timeout_s=120) == 0, station.output
    finally:
        operator.cancel()
        for child in (serve, *stations):
            await child.stop()
    return code, serve, seen


async def test_two_stations_in_parallel_with_prompts_answered_over_mqtt(
    tmp_path: Path, mosquitto: Broker
) -> None:
    code, serve, seen = await _serve_two(tmp_path, mosquitto, yes=True)
    assert code == 0, serve.output

    # Both stations were connected at the same time: a status table showed both rows "yes".
    tables = serve.output.split("station  ")
    assert any(
        re.search(r"^LAB-A1\s+yes\s", t, re.M) and re.search(r"^LAB-B1\s+yes\s", t, re.M)
        for t in tables
    ), serve.output
    # What each station said in BootNotification: vendor, model, firmware; and its version.
    assert re.search(
        r"^LAB-A1\s+\S+\s+1\.6\s+ocpp-harness\s+SimStation\s+0\.1\.0", serve.output, re.M
    )
    assert re.search(
        r"^LAB-B1\s+\S+\s+2\.0\.1\s+ocpp-harness\s+SimStation\s+0\.1\.0", serve.output, re.M
    )

    # The operator saw two prompts per station on the station's own topic, in order.
    for station in ("LAB-A1", "LAB-B1"):
        mine = [p for p in seen if p["topic"] == f"{PREFIX}/prompt/{station}"]
        assert [(p["id"], p["response"], p["station"]) for p in mine] == [
            (f"{station}-1", "ack", station),
            (f"{station}-2", "yes_no", station),
        ]
        assert mine[0]["message"] == "Plug the vehicle in at EVSE 1"

    # One run folder per station, with the case judged PASS and the station as its device.
    runs = sorted((tmp_path / "runs").iterdir())
    assert sorted(r.name.rsplit("-", 1)[-1] for r in runs) == ["A1", "B1"]  # run ids are random
    for run in runs:
        stored = RunStore.open(run)
        results = list(stored.results())
        assert [(r.info.case_id, r.verdict) for r in results] == [("LAB_01", Verdict.PASS)]
        device = results[0].info.devices[0]
        assert device.label == "ocpp-harness SimStation"
        assert device.attributes["firmware"] == "0.1.0"
        assert (run / "report").is_dir()
        # Every answer is recorded with who gave it: here the MQTT operator (the terminal
        # has no input and the console's page was not opened).
        answers = [json.loads(line) for line in (run / "operator-answers.jsonl").open()]
        assert [(a["id"].rsplit("-", 1)[-1], a["by"], a["answer"]) for a in answers] == [
            ("1", "mqtt", True),
            ("2", "mqtt", True),
        ]
