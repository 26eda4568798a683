"""The built-in station simulator as a ``sim`` DUT (:data:`~harness.runner.targets.StationFactory`).

Wraps ``simulators.station.runtime.SimulatedStation`` (station core + vehicle + OCPP
adapters) so that the runner can serve it over an in-memory transport and drive its vehicle.
The simulator is imported when a sim run starts; a build without it gives a clear error.
"""

from __future__ import annotations

import importlib
from typing import Any

from harness.runner.inputs import RunnerInputError
from harness.runner.operator import SimulationControl
from harness.runner.targets import SimSpec, StationFactory
from harness.transport import Transport

__all__ = ["builtin_factory"]


class _Control:
    def __init__(self, station: Any, catalogue: Any, spec: SimSpec) -> None:
        self._station = station
        self._catalogue = catalogue
        self._spec = spec

    async def plug_in(self, *, evse: int) -> None:
        if self._station.vehicle(evse) is None:
            await self._station.plug_in(evse)

    async def unplug(self, *, evse: int) -> None:
        if self._station.vehicle(evse) is not None:
            await self._station.unplug(evse)

    async def set_soc(self, *, evse: int, soc_percent: float) -> None:
        vehicle = self._station.vehicle(evse)
        if vehicle is None:
            raise RuntimeError(f"set_soc: no vehicle at EVSE {evse}")
        vehicle.set_soc(soc_percent)

    async def wake(self, *, evse: int) -> None:
        vehicle = self._station.vehicle(evse)
        if vehicle is not None and hasattr(vehicle, "wake"):
            vehicle.wake()


class _Builtin:
    """One built-in simulated station with its vehicle model."""

    def __init__(self, runtime: Any, station_pkg: Any, vehicle_pkg: Any, spec: SimSpec) -> None:
        catalogue = vehicle_pkg.load_catalogue()
        try:
            params = catalogue.get(spec.vehicle.archetype).vehicle_params(
                dict(spec.vehicle.params) or None, source=f"fleet vehicle {spec.vehicle.id}"
            )
        except ValueError as exc:
            raise RunnerInputError(f"fleet vehicle {spec.vehicle.id}: {exc}") from None
        faults = frozenset(
            station_pkg.StationFault(name) for name in (spec.fault or "").split(",") if name
        )
        config = station_pkg.StationConfig(
            station_id=spec.station_id,
            ocpp_version=_oracle_version(spec),
            meter_interval_s=1,
            faults=faults,
        )
        self._station = runtime.SimulatedStation(config, clock=spec.clock, vehicle_params=params)
        self._control = _Control(self._station, catalogue, spec)

    @property
    def control(self) -> SimulationControl:
        return self._control

    async def serve(self, transport: Transport) -> None:
        await self._station.run(transport)

    async def stop(self) -> None:
        await self._station.stop()


def _oracle_version(spec: SimSpec) -> Any:
    from harness.smartcharging import OcppVersion

    return OcppVersion(spec.subprotocol.value.removeprefix("ocpp"))


def builtin_factory() -> StationFactory:
    """The factory of built-in simulated stations; :class:`RunnerInputError` if this build has
    no station simulator runtime."""
    try:
        runtime = importlib.import_module("simulators.station.runtime")
    except ImportError:
        raise RunnerInputError(
            "the built-in station simulator (simulators.station.runtime) is not part of this "
            "build; use --target listen HOST:PORT with a real station"
        ) from None
    station_pkg = importlib.import_module("simulators.station")
    vehicle_pkg = importlib.import_module("simulators.vehicle")

    def factory(spec: SimSpec) -> _Builtin:
        return _Builtin(runtime, station_pkg, vehicle_pkg, spec)

    return factory
