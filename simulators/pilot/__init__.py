"""The pilot link between a station and a vehicle: in-process by default, or over MQTT.

One link joins one EVSE to one vehicle. The station end sends the station's
:class:`~simulators.vehicle.PilotOffer` (and discharge setpoints and the test's plug
commands) and receives :class:`~simulators.vehicle.VehicleReading` values and plug events;
the vehicle end does the opposite. :func:`run_vehicle` drives a simulated vehicle from the
vehicle end on a :class:`~harness.clock.Clock`::

    link = InProcessLink()
    vehicle = Vehicle(load_catalogue().get("bev_3ph_16a").vehicle_params())
    vehicle.plug_in()
    runner = asyncio.create_task(run_vehicle(vehicle, link.vehicle, clock=clock))
    await link.station.send_offer(PilotOffer(duty_percent=current_to_duty(16.0)))
    reading = await link.station.wait_reading(lambda r: r.max_phase_current_a >= 15.9)

Over MQTT, replace the link by ``MqttStationEnd(MqttSettings.from_url("mqtt://127.0.0.1"),
station_id="CP1", evse_id=1)`` in one process and ``MqttVehicleEnd(...)`` in the other
(both ``async with``). Topics and payloads: :mod:`simulators.pilot.mqtt` and
``simulators/PILOT_LINK.md``.
"""

from simulators.pilot.address import DEFAULT_PREFIX, MqttSettings, PilotTopics
from simulators.pilot.link import (
    InProcessLink,
    LinkClosed,
    LinkError,
    LinkStats,
    StationEnd,
    StationInbound,
    VehicleEnd,
    VehicleInbound,
)
from simulators.pilot.messages import (
    PAYLOAD_VERSION,
    DischargeAnswer,
    DischargeRequest,
    LinkStatus,
    Message,
    PayloadError,
    PlugCommand,
    PlugEvent,
    decode,
    encode,
)
from simulators.pilot.mqtt import MqttStationEnd, MqttVehicleEnd
from simulators.pilot.runner import run_vehicle

__all__ = [
    "DEFAULT_PREFIX",
    "PAYLOAD_VERSION",
    "DischargeAnswer",
    "DischargeRequest",
    "InProcessLink",
    "LinkClosed",
    "LinkError",
    "LinkStats",
    "LinkStatus",
    "Message",
    "MqttSettings",
    "MqttStationEnd",
    "MqttVehicleEnd",
    "PayloadError",
    "PilotTopics",
    "PlugCommand",
    "PlugEvent",
    "StationEnd",
    "StationInbound",
    "VehicleEnd",
    "VehicleInbound",
    "decode",
    "encode",
    "run_vehicle",
]
