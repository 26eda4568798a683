"""Issue #8 item 2: a lab meter over MQTT judges ``expect_settled`` on current and power.

The broker tests use the session's real mosquitto (``.ci/run`` installs it) and a scaled
clock at speed 10 (the broker is a real network peer: virtual time cannot cover it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from harness.cli import main
from harness.clock import ScaledClock
from harness.results import MeasurementSource, RunStore, Verdict
from harness.runner.labmeter import LabMeter, LabMeterError, LabMeterSettings, parse_reading
from tests.conftest import Broker
from tests.runner.fake_station import FakeBehaviour
from tests.runner.helpers import run_yaml
from tests.runner.test_engine import START, TX_PROFILE, case

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SETTLED = (
    START
    + TX_PROFILE.format(limit=10.0)
    + """
  - kind: expect_settled
    requirement: R1
    target: limit
    relation: near
    tolerance: 0.5
    within_s: 15
    hold_s: 5
"""
)


# ----------------------------------------------------------------- payload and URL


def test_reading_payload_becomes_lab_meter_samples() -> None:
    data = (
        b'{"t": "2026-01-01T00:00:01Z", "evse": 2, "current_a": [9.9, 10, 10.1], "power_w": 6900}'
    )
    reading = parse_reading(data, arrival=T0)
    assert reading.t == datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)
    samples = reading.samples()
    assert [(s.measurand, s.phase, s.value) for s in samples] == [
        ("Current.Import", "L1", 9.9),
        ("Current.Import", "L2", 10.0),
        ("Current.Import", "L3", 10.1),
        ("Power.Active.Import", None, 6900.0),
    ]
    assert {s.evse for s in samples} == {2}
    assert {s.source for s in samples} == {MeasurementSource.LAB_METER}
    # no (or an implausible) "t": the arrival time; no "evse": the URL's
    assert parse_reading(b'{"power_w": 1}', arrival=T0, default_evse=3).evse == 3
    far = b'{"t": "2020-01-01T00:00:00Z", "current_a": [1]}'
    assert parse_reading(far, arrival=T0).t == T0


@pytest.mark.parametrize(
    ("payload", "complaint"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b"{}", "current_a and/or power_w"),
        (b'{"current_a": []}', "current_a: expected 1 to 3 numbers"),
        (b'{"current_a": [1, 2, 3, 4]}', "current_a: expected 1 to 3 numbers"),
        (b'{"current_a": [1, "2"]}', "current_a[1]: expected a number"),
        (b'{"power_w": true}', "power_w: expected a number"),
        (b'{"power_w": 1, "evse": 0}', "evse: expected an integer"),
        (b'{"power_w": 1, "t": 5}', "t: expected an ISO 8601 time"),
        (b'{"power_w": 1, "voltage": 230}', "unknown field(s) voltage"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deep"),  # issue #16: no RecursionError
    ],
)
def test_a_bad_payload_names_the_field(payload: bytes, complaint: str) -> None:
    with pytest.raises(LabMeterError, match=re.escape(complaint)):
        parse_reading(payload, arrival=T0)


def test_lab_meter_url() -> None:
    s = LabMeterSettings.from_url("mqtt://u:p@127.0.0.1:1884/lab/meter/1?silent_s=4&evse=2")
    assert (s.host, s.port, s.topic, s.username, s.password) == (
        "127.0.0.1",
        1884,
        "lab/meter/1",
        "u",
        "p",
    )
    assert (s.silent_s, s.evse, s.tls) == (4.0, 2, False)
    assert s.label == "lab meter mqtt://127.0.0.1:1884/lab/meter/1"  # no password
    assert LabMeterSettings.from_url("mqtts://127.0.0.1/m").port == 8883
    for bad, complaint in [
        ("http://127.0.0.1/m", "mqtt://HOST:PORT/TOPIC"),
        ("mqtt://127.0.0.1:1883", "a host and a topic"),
        ("mqtt://127.0.0.1:1883/lab/#", "without \\+ or #"),
        ("mqtt://127.0.0.1:1883/m?silent_s=x", "silent_s must be a number"),
        ("mqtt://127.0.0.1:1883/m?silent_s=0", "silent_s must be > 0"),
        ("mqtt://127.0.0.1:1883/m?every=1", "unknown option every"),
    ]:
        with pytest.raises(LabMeterError, match=complaint):
            LabMeterSettings.from_url(bad)


def test_lab_meter_option_is_checked_before_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "ocpp16", "--lab-meter", "mqtt://127.0.0.1:1883/m"]) == 2
    assert "--lab-meter needs --target listen" in capsys.readouterr().err
    argv = ["run", "ocpp16", "--target", "listen", "127.0.0.1:0", "--capabilities"]
    argv += ["scenarios/capabilities/sim-station.yaml", "--lab-meter", "mqtt://127.0.0.1/"]
    assert main(argv) == 2
    assert "a host and a topic" in capsys.readouterr().err


def test_unreachable_meter_broker_stops_the_listen_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import free_port

    argv = ["run", "ocpp16", "--target", "listen", "127.0.0.1:0", "--capabilities"]
    argv += ["scenarios/capabilities/sim-station.yaml", "--out", str(tmp_path)]
    argv += ["--lab-meter", f"mqtt://127.0.0.1:{free_port()}/lab/m"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "lab meter mqtt://127.0.0.1:" in err
    assert "broker connection failed" in err


# ----------------------------------------------------------------- with a real broker


@contextlib.asynccontextmanager
async def meter_and_publisher(
    broker: Broker, topic: str, clock: ScaledClock, *, amps: float, readings: int | None
) -> AsyncIterator[LabMeter]:
    """A started LabMeter on ``topic`` and a publisher sending ``amps`` on three phases every
    clock second (``readings``: how many, then silence; ``None``: until the end)."""
    settings = LabMeterSettings.from_url(f"mqtt://{broker.host}:{broker.port}/{topic}?silent_s=3")
    meter = LabMeter(settings, clock=clock)
    await meter.start()

    async def publish() -> None:
        async with aiomqtt.Client(broker.host, broker.port) as client:
            sent = 0
            while readings is None or sent < readings:
                reading: dict[str, Any] = {
                    "t": clock.now().isoformat().replace("+00:00", "Z"),
                    "current_a": [amps] * 3,
                    "power_w": amps * 230 * 3,
                }
                await client.publish(topic, json.dumps(reading).encode())
                sent += 1
                await clock.sleep(1.0)
            await client.publish(topic, b'{"current_a": "garbage"}')  # counted, skipped
            await asyncio.Event().wait()

    publisher = asyncio.create_task(publish())
    try:
        yield meter
    finally:
        publisher.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
            await publisher
        await meter.aclose()


async def test_the_lab_meter_judges_not_the_station_meter_values(
    tmp_path: Path, mosquitto: Broker
) -> None:
    # The station's MeterValues say 16 A (it ignores the profile); the lab meter sees 10 A.
    clock = ScaledClock(speed=10.0, start=T0)
    async with meter_and_publisher(mosquitto, "lab/t1", clock, amps=10.0, readings=None) as m:
        results, _, _ = await run_yaml(
            tmp_path,
            case("LAB", SETTLED),
            behaviours=[FakeBehaviour(ignore_limit=True)],
            clock=clock,
            lab_meter=m,
        )
    (result,) = results
    assert result.verdict is Verdict.PASS, result.reason
    assert result.measurement_source is MeasurementSource.LAB_METER
    (check,) = [c for c in result.checks if "settled" in c.actual]
    assert f"measured by the lab meter mqtt://127.0.0.1:{mosquitto.port}/lab/t1" in check.expected
    measured = {s.name: s for s in result.series if s.name.startswith("current_import")}
    assert set(measured) == {"current_import.L1", "current_import.L2", "current_import.L3"}
    # the plotted current is the meter's, not the station's 16 A
    assert {p.value for p in measured["current_import.L1"].samples} == {10.0}
    assert m.readings >= 5


async def test_a_wrong_lab_reading_fails_although_meter_values_look_right(
    tmp_path: Path, mosquitto: Broker
) -> None:
    clock = ScaledClock(speed=10.0, start=T0)
    async with meter_and_publisher(mosquitto, "lab/t2", clock, amps=16.0, readings=None) as m:
        results, _, _ = await run_yaml(tmp_path, case("LAB", SETTLED), clock=clock, lab_meter=m)
    (result,) = results
    assert result.verdict is Verdict.FAIL
    assert result.measurement_source is MeasurementSource.LAB_METER
    (check,) = [c for c in result.checks if c.verdict is Verdict.FAIL]
    assert check.actual.startswith("not settled within 15 s: last 16, 16, 16 A")


async def test_a_silent_lab_meter_is_inconclusive_naming_the_meter(
    tmp_path: Path, mosquitto: Broker
) -> None:
    clock = ScaledClock(speed=10.0, start=T0)
    async with meter_and_publisher(mosquitto, "lab/t3", clock, amps=16.0, readings=2) as m:
        results, _, _ = await run_yaml(tmp_path, case("LAB", SETTLED), clock=clock, lab_meter=m)
        rejected, problem = m.rejected, m.last_problem
    (result,) = results
    # 16 A against a 10 A limit would be a FAIL, but the meter stopped reporting first
    assert result.verdict is Verdict.INCONCLUSIVE
    (check,) = [c for c in result.checks if c.verdict is Verdict.INCONCLUSIVE]
    label = f"lab meter mqtt://127.0.0.1:{mosquitto.port}/lab/t3"
    assert f"the {label} went silent: no reading for EVSE 1" in check.actual
    assert "limit 20 s" in check.actual  # 3 s asked, floored at 2 s of wall time (speed 10)
    assert rejected == 1
    assert problem is not None
    assert "current_a" in problem


async def test_run_store_keeps_the_measurement_source(tmp_path: Path, mosquitto: Broker) -> None:
    clock = ScaledClock(speed=10.0, start=T0)
    async with meter_and_publisher(mosquitto, "lab/t4", clock, amps=10.0, readings=None) as m:
        _, run_dir, _ = await run_yaml(tmp_path, case("LAB", SETTLED), clock=clock, lab_meter=m)
    (stored,) = RunStore.open(run_dir).results()
    assert stored.measurement_source is MeasurementSource.LAB_METER
