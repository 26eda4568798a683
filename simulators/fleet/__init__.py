"""Fleet mode: tens of thousands of compact simulated OCPP 1.6 stations on every core.

:func:`simulators.fleet.engine.run_fleet` drives ``N`` stations in one event loop, each one
asyncio task with a small ``__slots__`` state and one WebSocket client connection with small
buffers, against a CSMS. :mod:`simulators.fleet.processes` runs a fleet over worker processes
(one per core) on one machine, :mod:`simulators.fleet.ray_fleet` over Ray actors past one
machine; :mod:`simulators.fleet.limits` raises the open-file limit and says how many workers
a fleet needs. :mod:`simulators.fleet.csms` is a minimal CSMS for load tests on loopback.
"""

from simulators.fleet.engine import FleetPlan, FleetStats, run_fleet

__all__ = ["FleetPlan", "FleetStats", "run_fleet"]
