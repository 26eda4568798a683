"""The built-in station simulator as a ``sim`` DUT (:data:`~harness.runner.targets.StationFactory`).

Wraps ``simulators.station.runtime.SimulatedStation`` (station core + vehicle + OCPP
adapters) so that the runner can serve it over an in-memory transport and drive its vehicle.
The simulator is imported when a sim run starts; a build without it gives a clear error.
"""

from __future__ import annotations

import dataclasses
import importlib
import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from harness.runner.inputs import RunnerInputError
from harness.runner.operator import SimulationControl, WakeUpRecord
from harness.runner.targets import SimSpec, StationFactory
from harness.scenario import Capabilities
from harness.transport import Transport

__all__ = [
    "DC_STATION",
    "METER_INTERVAL_S",
    "WAKE_UP",
    "WAKE_UP_AFTER_S",
    "builtin_factory",
    "check_faults",
    "dc_capabilities",
]

METER_INTERVAL_S = 2
"""MeterValues interval of the built-in station in a run (clock seconds): fine enough for
``expect_settled`` deadlines of 5 s and holds of 10 s."""

WAKE_UP = ("pilot_toggle", "state_f")
WAKE_UP_AFTER_S = 90.0
"""The built-in station's wake-up escalation in a run: when the vehicle has not drawn for
90 s although current is offered, it toggles the pilot, and 90 s later holds state F. The
programme's resume checks (VP-04…VP-09: 60 s) judge a vehicle that needs this as not
resumed; VP-20 allows for it and reports which method woke the vehicle."""

DC_STATION: Mapping[str, Any] = {
    "dc": True,
    "phases": 1,
    "phase_switching": False,
    "voltage_v": 400.0,
    "max_current_per_evse_a": 80.0,
}
"""The ``StationConfig`` fields of the built-in DC station (32 kW: one DC current of up to
80 A at 400 V, agreed with the vehicle digitally, no duty cycle). A fleet vehicle whose
parameters say ``dc`` is plugged into this station instead of the AC one; its declaration is
:func:`dc_capabilities`."""


def dc_capabilities(capabilities: Capabilities) -> Capabilities:
    """The declaration of the built-in DC station: the AC station's ``capabilities`` with
    ``dc``, one supply "phase" (the DC current), 80 A and no phase switching."""
    return capabilities.model_copy(
        update={
            "dc": True,
            "supply_phases": 1,
            "max_current_a": float(DC_STATION["max_current_per_evse_a"]),
            "phase_switching": False,
        }
    )


class _Control:
    def __init__(self, station: Any, params: Any) -> None:
        self._station = station
        self._params = params
        self._replugs = 0

    async def plug_in(self, *, evse: int) -> None:
        if self._station.vehicle(evse) is None:
            await self._station.plug_in(evse)

    async def unplug(self, *, evse: int) -> None:
        if self._station.vehicle(evse) is not None:
            await self._station.unplug(evse)

    async def set_soc(self, *, evse: int, soc_percent: float) -> None:
        # The simulated vehicle takes its state of charge at plug-in: plug in a fresh one.
        vehicle_pkg = importlib.import_module("simulators.vehicle")
        params = dataclasses.replace(self._params, initial_soc_percent=soc_percent)
        await self.unplug(evse=evse)
        self._replugs += 1  # a seeded generator, as the station gives its own vehicles
        rng = random.Random(f"set_soc:{self._station.config.station_id}:{self._replugs}")
        await self._station.plug_in(evse, vehicle_pkg.Vehicle(params, rng=rng))

    async def wake(self, *, evse: int) -> None:
        # A pilot interruption (state F for ~4 s) wakes a vehicle asleep after a pause.
        self._station.core.interrupt_pilot(evse, now=self._station.clock.now())
        self._station.poke()

    async def set_external_limit(self, *, evse: int, limit_a: float | None) -> None:
        await self._station.set_external_limit(evse, limit_a=limit_a)

    async def renegotiate(self, *, evse: int) -> bool:
        result: bool = await self._station.renegotiate(evse)
        return result

    async def go_offline(self) -> bool:
        await self._station.go_offline()
        return bool(self._station.offline)

    async def present_token(self, *, evse: int, id_token: str) -> bool:
        result = await self._station.present_token(evse, id_token)
        return type(result).__name__ != "StartRefused"

    async def wake_up_record(self, *, evse: int, since: datetime) -> WakeUpRecord:
        episode = self._station.core.wake_up_episode(evse, since=since)
        if episode is None:
            return WakeUpRecord((), "none")
        woken = None if episode.woken_by is None else str(episode.woken_by)
        return WakeUpRecord(tuple(str(m) for m, _ in episode.tried), woken)


class _Builtin:
    """One built-in simulated station with its vehicle model."""

    def __init__(
        self,
        runtime: Any,
        station_pkg: Any,
        vehicle_pkg: Any,
        spec: SimSpec,
        options: Mapping[str, Any],
        memory: Any = None,
    ) -> None:
        catalogue = vehicle_pkg.load_catalogue()
        try:
            params = catalogue.get(spec.vehicle.archetype).vehicle_params(
                dict(spec.vehicle.params) or None, source=f"fleet vehicle {spec.vehicle.id}"
            )
            faults = frozenset(
                station_pkg.StationFault(name) for name in (spec.fault or "").split(",") if name
            )
        except ValueError as exc:
            raise RunnerInputError(f"fleet vehicle {spec.vehicle.id}: {exc}") from None
        config = station_pkg.StationConfig(
            station_id=spec.station_id,
            ocpp_version=spec.subprotocol.version,
            meter_interval_s=METER_INTERVAL_S,
            faults=faults,
            **{
                "phase_switching": True,  # as scenarios/capabilities/sim-station.yaml declares
                "wake_up": WAKE_UP,
                "wake_up_after_s": WAKE_UP_AFTER_S,
                **options,
            },
        )
        self._station = runtime.SimulatedStation(
            config,
            clock=spec.clock,
            vehicle_params=params,
            # The station is the device under test: the robustness cases' malformed frames
            # are on purpose, so its complaints go to the debug log, not the console. What
            # it sends, the harness checks and judges on receipt: no second check here.
            options=runtime.RuntimeOptions(violations_expected=True, check_own_frames=False),
            memory=memory,
        )
        self._control = _Control(self._station, params)

    @property
    def control(self) -> SimulationControl:
        return self._control

    @property
    def offline(self) -> bool:
        """Offline (an ``offline`` step): the next connection resumes this station."""
        return bool(self._station.offline)

    async def serve(self, transport: Transport) -> None:
        await self._station.run(transport)

    async def stop(self) -> None:
        await self._station.stop()


def builtin_factory(*, station_options: Mapping[str, Any] | None = None) -> StationFactory:
    """The factory of built-in simulated stations; :class:`RunnerInputError` if this build has
    no station simulator runtime. ``station_options`` are further ``StationConfig`` fields
    (e.g. ``supported_units``, ``smart_charging``) for stations other than the library's.

    A fleet vehicle that is ``dc`` (its parameters say so) gets the DC station
    (:data:`DC_STATION`, under ``station_options``); every other vehicle the AC one."""
    try:
        runtime = importlib.import_module("simulators.station.runtime")
    except ImportError:
        raise RunnerInputError(
            "the built-in station simulator (simulators.station.runtime) is not part of this "
            "build; use --target listen HOST:PORT with a real station"
        ) from None
    station_pkg = importlib.import_module("simulators.station")
    vehicle_pkg = importlib.import_module("simulators.vehicle")

    memories: dict[tuple[str, str, str | None], Any] = {}

    def factory(spec: SimSpec) -> _Builtin:
        # A station that replaces one of the same spec (after a reboot, or any disconnection)
        # finds what that one wrote to its flash (simulators.station.memory).
        key = (spec.station_id, spec.vehicle.id, spec.fault)
        memory = memories.setdefault(
            key, importlib.import_module("simulators.station.memory").StationMemory()
        )
        dc = spec.vehicle.facts is not None and spec.vehicle.facts.dc
        options = {**(DC_STATION if dc else {}), **(station_options or {})}
        return _Builtin(runtime, station_pkg, vehicle_pkg, spec, options, memory)

    return factory


def check_faults(names: tuple[str, ...]) -> None:
    """Raise :class:`RunnerInputError` naming the known faults if a name is not one."""
    try:
        station_pkg = importlib.import_module("simulators.station")
    except ImportError:
        return
    known = [str(f) for f in station_pkg.StationFault]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise RunnerInputError(
            f"--station-fault: unknown {', '.join(unknown)} (known: {', '.join(known)})"
        )
