"""Fleet mode: thousands of compact simulated OCPP 1.6 stations in one process.

:func:`simulators.fleet.engine.run_fleet` drives ``N`` stations, each one asyncio task with a
small ``__slots__`` state and one WebSocket client connection with small buffers, against a
CSMS. :mod:`simulators.fleet.csms` is a minimal CSMS for load tests on loopback, and
:mod:`simulators.fleet.ray_fleet` shards a fleet over Ray actors.
"""

from simulators.fleet.engine import FleetPlan, FleetStats, run_fleet

__all__ = ["FleetPlan", "FleetStats", "run_fleet"]
