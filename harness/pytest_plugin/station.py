"""``sim_station``: the built-in simulated station with a vehicle, connected in process to a
harness CSMS endpoint, for tests that drive OCPP by hand rather than through case files.

From a synchronous test, :meth:`SimStationFactory.run` runs an async function on a fresh
virtual-time loop (a six-hour wait costs no wall time)::

    def test_profile_is_accepted(sim_station):
        async def scenario(link):
            await link.station.plug_in(1)
            answer = await link.call("ClearChargingProfile", {})
            return answer.payload
        assert sim_station.run(scenario) == {"status": "Accepted"}   # or "Unknown"

From an ``async def`` test, ``async with sim_station.open() as link:`` connects on the
test's own loop (whose clock is the wall clock unless the loop is a virtual-time one).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from harness.clock import Clock, LoopClock
from harness.runner.endpoint import CallOutcome, CsmsEndpoint
from harness.transport import memory_pair
from harness.versions import OcppVersion
from simulators.station import StationConfig, StationFault
from simulators.station.runtime import SimulatedStation
from simulators.vehicle import load_catalogue

from .runs import SUBPROTOCOL, run_blocking

__all__ = ["SimLink", "SimStationFactory"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SimLink:
    """A connected simulated station and the harness CSMS endpoint it talks to.

    ``station`` is the :class:`~simulators.station.runtime.SimulatedStation` (``plug_in``,
    ``unplug``, ``present_token``, ``core`` to read its state); ``csms`` the
    :class:`~harness.runner.endpoint.CsmsEndpoint` (``call``, ``observations``: boots,
    transactions and meter values seen); ``clock`` the clock both share.
    """

    station: SimulatedStation
    csms: CsmsEndpoint
    clock: Clock

    async def call(
        self, action: str, payload: Mapping[str, Any], *, timeout_s: float = 30.0
    ) -> CallOutcome:
        """Send a CALL from the CSMS to the station (``.payload`` is the answer)."""
        return await self.csms.call(action, payload, timeout_s=timeout_s)


class SimStationFactory:
    """Makes connected simulated stations; defaults come from the test's markers."""

    def __init__(
        self,
        *,
        ocpp: str = "1.6",
        faults: Sequence[str] = (),
        archetype: str = "bev_3ph_16a",
        station_id: str = "SIM-STATION-1",
    ) -> None:
        self.ocpp = ocpp
        self.faults = tuple(faults)
        self.archetype = archetype
        self.station_id = station_id

    def _config(self, ocpp: str, faults: Sequence[str]) -> StationConfig:
        if ocpp not in SUBPROTOCOL:
            raise ValueError(f"ocpp: expected one of {', '.join(SUBPROTOCOL)}, got {ocpp!r}")
        try:
            chosen = frozenset(StationFault(name) for name in faults)
        except ValueError:
            known = ", ".join(StationFault)
            raise ValueError(f"station fault: unknown in {list(faults)} (known: {known})") from None
        return StationConfig(
            station_id=self.station_id,
            ocpp_version=OcppVersion(ocpp),
            meter_interval_s=2,
            phase_switching=True,
            faults=chosen,
        )

    @contextlib.asynccontextmanager
    async def open(
        self,
        *,
        clock: Clock | None = None,
        ocpp: str | None = None,
        faults: Sequence[str] | None = None,
        boot_timeout_s: float = 30.0,
    ) -> AsyncIterator[SimLink]:
        """Connect a new station on the running loop; it has booted when this yields.

        ``clock`` defaults to a :class:`~harness.clock.LoopClock` (virtual time on a
        virtual-time loop, the wall clock on an ordinary one).
        """
        version = ocpp or self.ocpp
        config = self._config(version, self.faults if faults is None else faults)
        clock = clock or LoopClock(start=datetime.now(UTC))
        params = load_catalogue().get(self.archetype).vehicle_params()
        station = SimulatedStation(config, clock=clock, vehicle_params=params)
        station_end, csms_end = memory_pair(self.station_id, SUBPROTOCOL[version])
        csms = CsmsEndpoint(csms_end, clock=clock)
        csms.start()
        task = asyncio.create_task(station.run(station_end))
        try:
            await clock.wait_for(csms.observations.booted.wait(), boot_timeout_s)
            yield SimLink(station, csms, clock)
        finally:
            await station.stop()
            await csms.close()
            with contextlib.suppress(BaseException):
                await clock.wait_for(task, 10.0)

    def run(
        self,
        scenario: Callable[[SimLink], Awaitable[T]],
        *,
        ocpp: str | None = None,
        faults: Sequence[str] | None = None,
    ) -> T:
        """Run ``scenario(link)`` on a fresh virtual-time loop and return what it returns."""

        async def main() -> T:
            async with self.open(ocpp=ocpp, faults=faults) as link:
                return await scenario(link)

        return run_blocking(main, virtual=True)
