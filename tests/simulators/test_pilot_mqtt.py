"""The pilot link over a real mosquitto broker on loopback."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import uuid

import aiomqtt
import pytest
import structlog

from harness.clock import ScaledClock
from harness.logs import configure_logging
from simulators.pilot import (
    DischargeAnswer,
    DischargeRequest,
    LinkError,
    LinkStatus,
    MqttSettings,
    MqttStationEnd,
    MqttVehicleEnd,
    PilotTopics,
    PlugEvent,
    encode,
)
from simulators.vehicle import PilotLine, PilotOffer
from tests.conftest import Broker
from tests.simulators.pilot_helpers import near, offer_a, reading_where, running, vehicle, within


def unique_station() -> str:
    """A station id no other test uses (retained messages stay on the shared broker)."""
    return f"T{uuid.uuid4().hex[:10]}"


# --------------------------------------------------------------------------- settings, topics
def test_broker_urls_are_parsed() -> None:
    plain = MqttSettings.from_url("mqtt://127.0.0.1")
    assert (plain.host, plain.port, plain.tls) == ("127.0.0.1", 1883, False)
    tls = MqttSettings.from_url("mqtts://broker.example:9999", prefix="lab/a")
    assert (tls.port, tls.tls, tls.prefix) == (9999, True, "lab/a")
    assert MqttSettings.from_url("mqtts://h").port == 8883
    creds = MqttSettings.from_url("mqtt://user:p%40ss@[::1]:1884")
    assert (creds.host, creds.username, creds.password) == ("::1", "user", "p@ss")
    assert creds.url == "mqtt://[::1]:1884"
    assert "p@ss" not in repr(creds)
    mine = MqttSettings.from_url("mqtt://u:a@h", username="v", password="b")
    assert (mine.username, mine.password) == ("v", "b")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("tcp://h:1883", "expected the scheme mqtt:// or mqtts://, got tcp://"),
        ("127.0.0.1:1883", "expected the scheme mqtt:// or mqtts://"),
        ("mqtt://:1883", "expected a host name"),
        ("mqtt://h:99999", "expected a port number 1–65535"),
        ("mqtt://h:1883/topic", "expected no path, query or fragment"),
    ],
)
def test_bad_broker_urls_say_what_is_wrong(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        MqttSettings.from_url(url)


def test_topics_follow_prefix_station_and_evse() -> None:
    t = PilotTopics.for_evse(prefix="lab", station_id="CP-1", evse_id=2)
    assert [t.pilot, t.plug_set, t.v2x, t.vehicle, t.plug, t.v2x_answer, t.link] == [
        "lab/CP-1/2/pilot",
        "lab/CP-1/2/plug/set",
        "lab/CP-1/2/v2x",
        "lab/CP-1/2/vehicle",
        "lab/CP-1/2/plug",
        "lab/CP-1/2/v2x/answer",
        "lab/CP-1/2/link",
    ]


@pytest.mark.parametrize(
    ("station_id", "evse_id", "reason"),
    [
        ("a/b", 1, "station_id: expected a non-empty topic level"),
        ("a+", 1, "station_id"),
        ("", 1, "station_id"),
        ("CP1", 0, "evse_id: expected an integer ≥ 1"),
    ],
)
def test_bad_topic_levels_are_refused(station_id: str, evse_id: int, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        PilotTopics.for_evse(station_id=station_id, evse_id=evse_id)


def test_bad_prefixes_are_refused() -> None:
    for prefix in ("$SYS", "a//b", "a/#", "/a"):
        with pytest.raises(ValueError, match="prefix"):
            MqttSettings(host="h", port=1883, prefix=prefix)


async def test_an_unreachable_broker_is_a_link_error() -> None:
    with socket.socket() as sock:  # a port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = MqttSettings(host="127.0.0.1", port=port)
    where = f"mqtt://127.0.0.1:{port}"
    with pytest.raises(LinkError, match=f"cannot connect to the MQTT broker at {where}"):
        async with MqttVehicleEnd(settings, station_id="CP1", evse_id=1):
            pass


# --------------------------------------------------------------------------- over the broker
async def test_ends_on_separate_clients_exchange_offers_readings_and_answers(
    mosquitto: Broker,
) -> None:
    settings = MqttSettings.from_url(mosquitto.url)
    sid = unique_station()
    car = vehicle("bev_bidirectional")
    async with (
        MqttStationEnd(settings, station_id=sid, evse_id=1) as station,
        MqttVehicleEnd(settings, station_id=sid, evse_id=1) as ev,
    ):
        await station.send_offer(offer_a(16.0, phases=1))
        received = await within(ev.receive(), "the offer at the vehicle end")
        assert received == offer_a(16.0, phases=1)
        assert ev.latest_offer == received

        await ev.send_plug(PlugEvent(plugged=True, time_s=0.0))
        car.set_pilot(offer_a(16.0))
        sent = car.advance(10.0)
        await ev.send_reading(sent)
        reading = await reading_where(station, lambda r: r == sent, "the reading at the station")
        assert near(16.0)(reading)
        assert station.plugged is True
        assert station.vehicle_online is True

        asking = asyncio.ensure_future(station.request_discharge(power_w=2000.0))
        request = await within(ev.receive(), "the discharge request")
        assert isinstance(request, DischargeRequest)
        assert request.power_w == 2000.0
        await ev.answer_discharge(
            DischargeAnswer(request_id=request.request_id, accepted=True, reason="ok")
        )
        decision = await within(asking, "the discharge answer")
        assert (decision.accepted, decision.reason) == (True, "ok")
    assert station.stats.bad_payloads == ev.stats.bad_payloads == 0


async def test_a_late_vehicle_gets_the_retained_offer_and_a_late_station_the_plug_state(
    mosquitto: Broker,
) -> None:
    settings = MqttSettings.from_url(mosquitto.url)
    sid = unique_station()
    paused = PilotOffer(duty_percent=100.0, line=PilotLine.F)
    async with MqttStationEnd(settings, station_id=sid, evse_id=3) as station:
        await station.send_offer(offer_a(10.0))
        await station.send_offer(paused)
    async with MqttVehicleEnd(settings, station_id=sid, evse_id=3) as ev:
        assert await within(ev.receive(), "the retained offer") == paused
        await ev.send_plug(PlugEvent(plugged=True, time_s=5.0))
    async with MqttStationEnd(settings, station_id=sid, evse_id=3) as late:
        event = await within(late.receive(), "the retained plug event")
        assert event == PlugEvent(plugged=True, time_s=5.0)
        assert late.plugged is True
        status = await within(late.receive(), "the retained link status")
        assert status == LinkStatus(online=False), "a cleanly closed vehicle end must say offline"
        assert late.vehicle_online is False


async def test_malformed_payloads_are_logged_counted_and_ignored(mosquitto: Broker) -> None:
    settings = MqttSettings.from_url(mosquitto.url)
    sid = unique_station()
    topics = PilotTopics.for_evse(station_id=sid, evse_id=1)
    stream = io.StringIO()
    configure_logging(json_lines=True, level="WARNING", stream=stream)
    try:
        async with (
            MqttVehicleEnd(settings, station_id=sid, evse_id=1) as ev,
            MqttStationEnd(settings, station_id=sid, evse_id=1) as station,
            aiomqtt.Client(mosquitto.host, port=mosquitto.port) as lab,
        ):
            await lab.publish(topics.pilot, b"{not json", qos=1)
            await lab.publish(topics.pilot, b'{"v":1,"duty_pct":50}', qos=1)
            await lab.publish(topics.vehicle, b'{"v":2}', qos=1)
            good = offer_a(6.0)
            await lab.publish(topics.pilot, encode(good), qos=1)
            assert await within(ev.receive(), "the valid offer after the bad ones") == good
            valid = vehicle().reading()
            await lab.publish(topics.vehicle, encode(valid), qos=1)
            await reading_where(station, lambda r: r == valid, "the valid reading")
            assert ev.stats.bad_payloads == 2
            assert station.stats.bad_payloads == 1
            assert ev.latest_offer == good
            assert ev.last_bad_payload is not None
            assert ev.last_bad_payload == (
                f"{topics.pilot}: PilotOffer: field 'duty_percent': expected this field, missing"
            )
    finally:
        structlog.reset_defaults()
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    bad = [e for e in events if e["event"] == "pilot_link_bad_payload"]
    assert {e["level"] for e in bad} == {"warning"}
    at_vehicle = [e for e in bad if e["topic"] == topics.pilot]  # in order per client
    at_station = [e for e in bad if e["topic"] == topics.vehicle]
    assert len(at_vehicle) == 2
    assert at_vehicle[0]["reason"].startswith("PilotOffer: expected JSON")
    assert "field 'duty_percent': expected this field, missing" in at_vehicle[1]["reason"]
    assert at_vehicle[1]["payload"] == '{"v":1,"duty_pct":50}'
    assert [e["reason"] for e in at_station] == ["VehicleReading: field 'v': expected 1, got 2"]


async def test_a_runner_over_mqtt_follows_a_changed_offer(mosquitto: Broker) -> None:
    settings = MqttSettings.from_url(mosquitto.url)
    sid = unique_station()
    clock = ScaledClock(speed=50.0)  # 16 A is reached 5.2 clock s after the offer: ~0.1 s
    async with (
        MqttStationEnd(settings, station_id=sid, evse_id=1) as station,
        MqttVehicleEnd(settings, station_id=sid, evse_id=1) as ev,
        running(vehicle("bev_3ph_16a"), ev, clock, step_s=0.5),
    ):
        await station.send_offer(offer_a(16.0))
        at_16 = await reading_where(station, near(16.0), "16 A per phase")
        await station.send_offer(offer_a(8.0))
        at_8 = await reading_where(station, near(8.0), "8 A per phase after the change")
    assert at_16.allowed_current_a == pytest.approx(16.0)
    assert at_8.time_s > at_16.time_s
    assert station.plugged is True
    assert station.stats.bad_payloads == 0
