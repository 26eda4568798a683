"""Issue #16: a password or key never reaches an output, one focused test per path.

The secret travels in OCPP frames (1.6 ``AuthorizationKey``, hex-encoded, in a
ChangeConfiguration the harness sends and in a GetConfiguration answer a careless station
returns; in frames outside any case) with the harness as CSMS (``listen``) and as station
(``--target connect``). Each output is searched on its own so a failure names the path:
``results.jsonl``, the case traces, ``outside.jsonl``, ``events.jsonl``, the logs (DEBUG, JSON
lines), a verdict's reason (the terminal line and the console's ``verdict`` event).
Everything runs in-process over loopback websockets; no configured ``secrets`` are passed,
so only the redaction rules themselves can hide the values.
"""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from harness.cli import main
from harness.clock import ScaledClock
from harness.console import ANSWERS_FILE, ConsoleDesk
from harness.console.cli import ConsoleSettings
from harness.console.hub import ConsoleHub
from harness.console.listen import ListenConsole
from harness.logs import configure_logging
from harness.results import CaseResult, Manifest, RunStore, new_run_id
from harness.runner import AutoOperator, ListenProvider, PlannedCase, RunOptions, run_cases
from harness.runner.connect import csms_capabilities, run_cases_connect
from harness.runner.operator import NoOperator
from harness.scenario import load_case_file, resolve_parameters
from harness.transport import OcppSubprotocol
from tests.runner.helpers import CAPS

CAPABILITIES = Path(__file__).parents[1] / "lab" / "sim-station.yaml"

SECRET = "Key-never-shown-5150-abcdef"
HEX = SECRET.encode().hex()
NEEDLES = {"the key": SECRET, "the key in hex": HEX}
LEAKED = [{"key": "AuthorizationKey", "readonly": False, "value": HEX}]

CSMS_ROLE_CASES = f"""
- id: SET_KEY
  title: the station takes a new AuthorizationKey
  suite: secrets
  ocpp_versions: ["1.6"]
  dut_role: station
  requirements: [{{id: R1, level: MUST, text: ChangeConfiguration is accepted}}]
  steps:
    - {{kind: send, action: ChangeConfiguration,
       payload: {{key: AuthorizationKey, value: "{HEX}"}}, expect: {{status: Accepted}}}}
- id: READ_KEY
  title: the station never returns its AuthorizationKey
  suite: secrets
  ocpp_versions: ["1.6"]
  dut_role: station
  requirements: [{{id: R2, level: MUST, text: AuthorizationKey is write-only}}]
  steps:
    - {{kind: send, action: GetConfiguration, payload: {{key: [AuthorizationKey]}},
       expect: {{configurationKey: []}}}}
"""


@pytest.fixture
def logs() -> io.StringIO:
    buffer = io.StringIO()
    configure_logging(json_lines=True, level="DEBUG", stream=buffer)
    return buffer


def _outputs(run_dir: Path, results: list[CaseResult], logs: io.StringIO) -> dict[str, str]:
    """Every output of a run by path name: the run folder's files, the logs, the verdict
    lines the terminal prints, and the console's events for these verdicts."""
    outputs = {
        str(p.relative_to(run_dir)): p.read_text(errors="replace")
        for p in sorted(run_dir.rglob("*"))
        if p.is_file()
    }
    outputs["logs"] = logs.getvalue()
    outputs["verdict reasons (terminal)"] = "\n".join(r.reason or "" for r in results)
    hub = ConsoleHub(now=lambda: datetime.now(UTC))
    for result in results:
        hub.judged("CP-KEY", result)
    outputs["console event stream"] = json.dumps(hub.snapshot())
    return outputs


def _assert_no_secret(outputs: dict[str, str], expected: set[str]) -> None:
    assert expected <= set(outputs), sorted(outputs)
    for name, text in outputs.items():
        for what, needle in NEEDLES.items():
            assert needle not in text, f"{what} found in {name}:\n{text[:2000]}"


async def _careless_station(url: str, done: asyncio.Event) -> None:
    """Boots, sends the key in frames outside a case (an answer to nothing, a DataTransfer),
    accepts ChangeConfiguration and returns the key in GetConfiguration (a leak of its own)."""
    async with connect(url, subprotocols=[Subprotocol("ocpp1.6")]) as ws:
        boot = {"chargePointVendor": "Careless", "chargePointModel": "Leaky"}
        await ws.send(json.dumps([2, "boot-1", "BootNotification", boot]))
        await ws.send(json.dumps([3, "no-such-call", {"configurationKey": LEAKED}]))
        async for text in ws:
            message = json.loads(text)
            if message[0] != 2:
                continue
            _, mid, action, _payload = message
            if action == "ChangeConfiguration":
                await ws.send(json.dumps([3, mid, {"status": "Accepted"}]))
            elif action == "GetConfiguration":
                await ws.send(json.dumps([3, mid, {"configurationKey": LEAKED}]))
                done.set()
            else:
                await ws.send(json.dumps([3, mid, {}]))


async def test_the_key_reaches_no_output_with_the_harness_as_csms(
    tmp_path: Path, logs: io.StringIO
) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(CSMS_ROLE_CASES)
    cases = load_case_file(path)
    clock = ScaledClock(speed=1.0)
    provider = ListenProvider(host="127.0.0.1", port=0, clock=clock)
    server = await provider.start()
    done = asyncio.Event()
    station = asyncio.create_task(_careless_station(server.url("CP-KEY"), done))
    manifest = Manifest(
        new_run_id(started_at=clock.now()), clock.now(), provider.target, (OcppSubprotocol.V16,)
    )
    try:
        with RunStore.create(tmp_path / "runs", manifest) as writer:
            async with asyncio.timeout(60):
                results = await run_cases(
                    [PlannedCase(c, resolve_parameters(c)) for c in cases],
                    provider=provider,
                    writer=writer,
                    clock=clock,
                    operator=AutoOperator(),
                    capabilities=CAPS,
                    options=RunOptions(connect_timeout_s=30, boot_wait_s=5, reset_timeout_s=5),
                )
            writer.finish(finished_at=clock.now())
            run_dir = writer.run_dir
    finally:
        station.cancel()
        await asyncio.gather(station, return_exceptions=True)
    assert done.is_set()  # the key did go over the wire both ways
    assert [r.verdict.value for r in results] == ["PASS", "FAIL"], [r.reason for r in results]
    outputs = _outputs(run_dir, results, logs)
    _assert_no_secret(outputs, {"results.jsonl", "outside.jsonl", "logs"})
    traces = "".join(text for name, text in outputs.items() if name.startswith("traces/"))
    assert traces.count("AuthorizationKey") >= 2  # the frames are kept, their values hidden


STATION_ROLE_CASE = """
id: BOOT
title: the CSMS accepts BootNotification
suite: secrets
ocpp_versions: ["1.6"]
dut_role: csms
requirements: [{id: R1, level: MUST, text: BootNotification is accepted}]
steps:
  - kind: send
    action: BootNotification
    payload: {chargePointVendor: ocpp-harness, chargePointModel: simulated-station}
    expect: {status: Accepted}
"""


async def test_the_key_reaches_no_output_with_the_harness_as_station(
    tmp_path: Path, logs: io.StringIO
) -> None:
    answered: list[Any] = []

    async def csms(ws: ServerConnection) -> None:
        async for text in ws:
            message = json.loads(text)
            answered.append(message)
            if message[0] == 2 and message[2] == "BootNotification":
                change = {"key": "AuthorizationKey", "value": HEX}
                await ws.send(json.dumps([2, "cc-1", "ChangeConfiguration", change]))
                await ws.send(json.dumps([3, "nothing-asked", {"configurationKey": LEAKED}]))
                answer = {"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z"}
                await ws.send(json.dumps([3, message[1], {**answer, "interval": 300}]))

    path = tmp_path / "case.yaml"
    path.write_text(STATION_ROLE_CASE)
    [case] = load_case_file(path)
    clock = ScaledClock(speed=1.0, start=datetime.now(UTC))
    async with serve(csms, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp1.6")]) as server:
        port = server.sockets[0].getsockname()[1]
        url = f"ws://127.0.0.1:{port}/CP-KEY"
        manifest = Manifest(
            new_run_id(started_at=clock.now()), clock.now(), f"connect {url}",
            (OcppSubprotocol.V16,),
        )  # fmt: skip
        with RunStore.create(tmp_path / "runs", manifest) as writer:
            results = await run_cases_connect(
                [PlannedCase(case, resolve_parameters(case))],
                url=url,
                writer=writer,
                clock=clock,
                operator=NoOperator(),
                capabilities=csms_capabilities(["1.6"]),
            )
            writer.finish(finished_at=clock.now())
            run_dir = writer.run_dir
    assert any(m[:2] == [3, "cc-1"] for m in answered)  # the harness station got the key
    _assert_no_secret(_outputs(run_dir, results, logs), {"results.jsonl", "logs"})


STATION_ROLE_CASE_201 = """
id: BOOT201
title: the CSMS accepts BootNotification
suite: secrets
ocpp_versions: ["2.0.1"]
dut_role: csms
requirements: [{id: R1, level: MUST, text: BootNotification is accepted}]
steps:
  - kind: send
    action: BootNotification
    payload:
      reason: PowerUp
      chargingStation: {model: simulated-station, vendorName: ocpp-harness}
    expect: {status: Accepted}
"""


async def test_a_basic_auth_password_set_by_a_csms_reaches_no_output_of_the_station(
    tmp_path: Path, logs: io.StringIO
) -> None:
    """OCPP 2.0.1: the CSMS sets ``SecurityCtrlr.BasicAuthPassword`` on the harness station
    (SetVariables, the password in clear) and repeats it in an answer to nothing."""
    answered: list[Any] = []
    setting = {
        "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"},
        "attributeValue": SECRET,
    }

    async def csms(ws: ServerConnection) -> None:
        async for text in ws:
            message = json.loads(text)
            answered.append(message)
            if message[0] == 2 and message[2] == "BootNotification":
                request = {"setVariableData": [setting]}
                await ws.send(json.dumps([2, "sv-1", "SetVariables", request]))
                await ws.send(json.dumps([3, "nothing-asked", {"setVariableData": [setting]}]))
                answer = {"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z"}
                await ws.send(json.dumps([3, message[1], {**answer, "interval": 300}]))

    path = tmp_path / "case.yaml"
    path.write_text(STATION_ROLE_CASE_201)
    [case] = load_case_file(path)
    clock = ScaledClock(speed=1.0, start=datetime.now(UTC))
    async with serve(csms, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp2.0.1")]) as server:
        port = server.sockets[0].getsockname()[1]
        url = f"ws://127.0.0.1:{port}/CP-KEY"
        manifest = Manifest(
            new_run_id(started_at=clock.now()), clock.now(), f"connect {url}",
            (OcppSubprotocol.V201,),
        )  # fmt: skip
        with RunStore.create(tmp_path / "runs", manifest) as writer:
            results = await run_cases_connect(
                [PlannedCase(case, resolve_parameters(case))],
                url=url,
                writer=writer,
                clock=clock,
                operator=NoOperator(),
                capabilities=csms_capabilities(["2.0.1"]),
            )
            writer.finish(finished_at=clock.now())
            run_dir = writer.run_dir
    assert any(m[:2] == [3, "sv-1"] for m in answered)  # the harness station got it
    outputs = _outputs(run_dir, results, logs)
    _assert_no_secret(outputs, {"results.jsonl", "logs"})
    traces = "".join(text for name, text in outputs.items() if name.startswith("traces/"))
    assert "BasicAuthPassword" in traces  # the frames are kept, the value hidden


@pytest.mark.parametrize(
    "args",
    [
        ("serve", "--port", "0", "--operator-mqtt", "mqtt://op:{secret}@127.0.0.1:99999"),
        ("run", "--target", "listen", "127.0.0.1:0", "--lab-meter", "mqtt://op:{secret}@h:x/m"),
    ],
    ids=["serve --operator-mqtt", "run --lab-meter"],
)
def test_a_broker_password_in_a_bad_url_is_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    """A mistyped broker URL is bad input (exit 2) named in one line, without its password."""
    (tmp_path / "cases.yaml").write_text(CSMS_ROLE_CASES)
    command, *rest = (a.format(secret=SECRET) for a in args)
    argv = [command, str(tmp_path / "cases.yaml"), *rest, "--out", str(tmp_path / "runs")]
    argv += ["--capabilities", str(CAPABILITIES)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    terminal = captured.out + captured.err
    assert "«redacted»" in terminal, terminal
    assert SECRET not in terminal, terminal


class _Yes:
    """An operator channel that answers yes at once."""

    name = "mqtt"
    where = "mqtt://127.0.0.1:1883"

    async def ask(self, station_id: str, prompt_id: str, message: str, *, yes_no: bool) -> bool:
        return True


async def test_a_prompt_quoting_a_configured_password_is_recorded_without_it(
    tmp_path: Path,
) -> None:
    """The operator-answers log (``operator-answers.jsonl`` in the run folder) hides the
    configured passwords, as the rest of the run folder does."""
    desk = ConsoleDesk(
        channels=[_Yes()],
        hub=None,
        now=lambda: datetime.now(UTC),
        run_dir=lambda _sid: tmp_path,
        echo=lambda _line: None,
        secrets=(SECRET,),
    )
    message = f"Set the station's Basic-auth password to {SECRET}, then confirm"
    assert await desk.operator("CP-KEY").ask(message, yes_no=True) is True
    [entry] = [json.loads(line) for line in (tmp_path / ANSWERS_FILE).read_text().splitlines()]
    assert entry["answer"] is True
    assert entry["message"] == "Set the station's Basic-auth password to «redacted», then confirm"


async def test_the_listen_consoles_answers_log_hides_the_configured_password(
    tmp_path: Path,
) -> None:
    """The same for ``run --target listen``'s console (answers from the browser)."""
    live = await ListenConsole.start(
        ConsoleSettings(),
        clock=ScaledClock(),
        planned=["CASE"],
        run_dir=lambda: tmp_path,
        terminal=None,
        echo=lambda _line: None,
        secrets=(SECRET,),
    )
    try:
        asking = asyncio.create_task(
            live.operator.ask(f"Type {SECRET} on the station", yes_no=False)
        )
        async with asyncio.timeout(10):
            while not live.hub.prompts:  # noqa: ASYNC110 (the hub has no event to wait on)
                await asyncio.sleep(0.01)
        [prompt_id] = live.hub.prompts
        assert live.hub.answer(prompt_id, True, where="127.0.0.1 (test)")
        assert await asyncio.wait_for(asking, 10) is True
    finally:
        await live.close()
    [entry] = [json.loads(line) for line in (tmp_path / ANSWERS_FILE).read_text().splitlines()]
    assert entry["message"] == "Type «redacted» on the station"
