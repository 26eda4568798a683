"""Distributed fleets: shard a fleet over Ray async actors, each running a slice of stations.

Ray is optional (``pip install 'ocpp-harness[ray]'``); it is imported only when a fleet is
run on Ray. Each actor runs :func:`simulators.fleet.engine.run_fleet` for its slice in its own
event loop; the driver polls the actors' counters and merges them into one summary.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from simulators.fleet.engine import FleetPlan, shard_plan
from simulators.fleet.stats import merge

__all__ = ["RayUnavailableError", "run_on_ray", "shard_plan"]


class RayUnavailableError(RuntimeError):
    """Ray is not installed: ``pip install 'ocpp-harness[ray]'``."""


class _Shard:
    """Body of the Ray actor: one slice of the fleet in the actor's event loop."""

    def __init__(self, plan: dict[str, Any], speed: float, start_iso: str) -> None:
        from harness.clock import ScaledClock
        from simulators.fleet.csms import raise_fd_limit
        from simulators.fleet.engine import FleetPlan, FleetStats

        raise_fd_limit()
        plan["hosts"] = tuple(plan["hosts"])
        self.plan = FleetPlan(**plan)
        self.clock = ScaledClock(speed=speed, start=datetime.fromisoformat(start_iso))
        self.stats = FleetStats()
        self.stop_event: asyncio.Event | None = None
        self.task: asyncio.Task[int] | None = None

    async def start(self) -> int:
        from simulators.fleet.engine import run_fleet

        self.stop_event = asyncio.Event()
        self.task = asyncio.create_task(
            run_fleet(self.plan, clock=self.clock, stats=self.stats, stop=self.stop_event)
        )
        return self.plan.stations

    async def snapshot(self) -> dict[str, Any]:
        return self.stats.snapshot()

    async def stop(self) -> dict[str, Any]:
        if self.stop_event is not None and self.task is not None:
            self.stop_event.set()
            await self.task
        return self.stats.snapshot()


def run_on_ray(
    plan: FleetPlan,
    *,
    address: str,
    actors: int,
    speed: float,
    start: datetime,
    duration_wall_s: float,
    on_summary: Callable[[dict[str, Any]], None] | None = None,
    summary_every_wall_s: float = 2.0,
    until: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """Run ``plan`` split over ``actors`` Ray actors; return the merged final counters.

    ``address`` is a Ray cluster address or ``auto``; ``local`` starts a local Ray. The run
    ends after ``duration_wall_s`` or as soon as ``until(merged_snapshot)`` is true.
    """
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailableError(
            "Ray is not installed; install the extra: pip install 'ocpp-harness[ray]'"
        ) from exc
    if not ray.is_initialized():
        root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        env = {"env_vars": {"PYTHONPATH": path}}
        if address == "local":
            ray.init(include_dashboard=False, runtime_env=env)
        else:
            ray.init(address=address, runtime_env=env)
    shard_cls: Any = ray.remote(num_cpus=0)(_Shard)
    handles: list[Any] = []
    for part in shard_plan(plan, shards=actors):
        fields = dataclasses.asdict(part)
        handles.append(shard_cls.remote(fields, speed, start.isoformat()))
    ray.get([h.start.remote() for h in handles])
    loop_wall_s = 0.0
    merged: dict[str, Any] = {}
    t0 = time.monotonic()
    while loop_wall_s < duration_wall_s:
        time.sleep(min(summary_every_wall_s, 0.25))
        loop_wall_s = time.monotonic() - t0
        merged = merge(ray.get([h.snapshot.remote() for h in handles]))
        if on_summary is not None:
            on_summary(merged)
        if until is not None and until(merged):
            break
    live = merged
    final = merge(ray.get([h.stop.remote() for h in handles]))
    final["connected_before_stop"] = live.get("connected", 0)
    final["charging_before_stop"] = live.get("charging", 0)
    final["actors"] = len(handles)
    for h in handles:
        ray.kill(h)
    return final
