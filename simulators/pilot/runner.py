"""Drive a simulated :class:`~simulators.vehicle.Vehicle` from the vehicle end of a link.

:func:`run_vehicle` keeps the vehicle's time in step with a :class:`~harness.clock.Clock`:

* every message from the station side is applied at the clock time it is handled — the
  vehicle is first advanced to that time, then the offer (``vehicle.set_pilot``), discharge
  request (``vehicle.set_discharge``, answered on the link) or plug command is applied, and a
  fresh reading is sent;
* every ``step_s`` clock seconds the vehicle is advanced to the clock time and its reading
  sent. The vehicle integrates exactly over any step, so coarse steps at high clock speeds
  cost no accuracy, only reading resolution. A step that falls behind (a slow machine, or a
  :class:`~harness.clock.ManualClock` advanced by more than ``step_s``) yields one reading
  at the current time, not a burst of stale ones.

At start it sends the vehicle's plug state and a reading. It runs until cancelled (it
cancels its own pending waits, leaves nothing running, and lets the cancellation through)
or until the link ends (then the :class:`~simulators.pilot.link.LinkError` propagates).
"""

from __future__ import annotations

import asyncio
import contextlib
import math

from harness.clock import Clock
from harness.logs import get_logger
from simulators.iec61851 import PilotTransitionError
from simulators.pilot.link import VehicleEnd, VehicleInbound
from simulators.pilot.messages import DischargeAnswer, DischargeRequest, PlugCommand, PlugEvent
from simulators.vehicle.model import Vehicle
from simulators.vehicle.signals import PilotOffer

__all__ = ["run_vehicle"]


class _Driver:
    """Maps clock time onto vehicle time and applies what the station side sends."""

    def __init__(self, vehicle: Vehicle, end: VehicleEnd, clock: Clock) -> None:
        self.vehicle = vehicle
        self.end = end
        self.clock = clock
        self.origin = clock.monotonic()
        self._offset = vehicle.now_s - self.origin

    def catch_up(self) -> None:
        """Advance the vehicle to the clock's current time."""
        target = self.clock.monotonic() + self._offset
        if target > self.vehicle.now_s:
            self.vehicle.step(target)

    async def send_reading(self) -> None:
        await self.end.send_reading(self.vehicle.reading())

    async def send_plug(self) -> None:
        await self.end.send_plug(PlugEvent(plugged=self.vehicle.plugged, time_s=self.vehicle.now_s))

    async def apply(self, message: VehicleInbound) -> None:
        self.catch_up()
        if isinstance(message, PilotOffer):
            self.vehicle.set_pilot(message)
        elif isinstance(message, DischargeRequest):
            decision = self.vehicle.set_discharge(power_w=message.power_w)
            await self.end.answer_discharge(
                DischargeAnswer(
                    request_id=message.request_id,
                    accepted=decision.accepted,
                    reason=decision.reason,
                )
            )
        else:
            await self._plug(message)
        await self.send_reading()

    async def _plug(self, command: PlugCommand) -> None:
        if command.plugged == self.vehicle.plugged:
            get_logger("pilot.runner").info(
                "plug_command_ignored", plugged=command.plugged, reason="already in that state"
            )
        else:
            try:
                if command.plugged:
                    self.vehicle.plug_in()
                else:
                    self.vehicle.unplug()
            except PilotTransitionError as error:  # cannot happen with the check above
                get_logger("pilot.runner").warning("plug_command_refused", reason=str(error))
        await self.send_plug()


async def run_vehicle(
    vehicle: Vehicle, end: VehicleEnd, *, clock: Clock, step_s: float = 1.0
) -> None:
    """Run ``vehicle`` behind ``end`` on ``clock``, sending a reading every ``step_s``.

    ``step_s`` is in clock seconds (> 0). Plug the vehicle in beforehand (or send a
    :class:`PlugCommand` later) — the runner does not decide when the cable goes in.
    """
    if not (math.isfinite(step_s) and step_s > 0):
        raise ValueError(f"step_s must be a finite duration > 0 s, got {step_s!r}")
    driver = _Driver(vehicle, end, clock)
    await driver.send_plug()
    await driver.send_reading()
    ticks = 1
    receiving: asyncio.Task[VehicleInbound] | None = None
    timer: asyncio.Task[None] | None = None
    try:
        while True:
            if receiving is None:
                receiving = asyncio.ensure_future(end.receive())
            if timer is None:
                timer = asyncio.ensure_future(clock.sleep_until(driver.origin + ticks * step_s))
            done, _ = await asyncio.wait({receiving, timer}, return_when=asyncio.FIRST_COMPLETED)
            if receiving in done:
                message = receiving.result()  # a LinkError ends the run
                receiving = None
                await driver.apply(message)
            if timer in done:
                timer = None
                driver.catch_up()
                await driver.send_reading()
                elapsed = clock.monotonic() - driver.origin
                ticks = max(ticks + 1, math.floor(elapsed / step_s) + 1)
    finally:
        for task in (receiving, timer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
