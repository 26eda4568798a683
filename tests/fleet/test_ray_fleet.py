"""A fleet split over two Ray actors against a CSMS on loopback (local Ray started here)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.cli import cli
from simulators.fleet import FleetPlan
from simulators.fleet.csms import MiniCsms, serve_csms
from simulators.fleet.ray_fleet import run_on_ray, shard_plan

ROOT = Path(__file__).resolve().parents[2]
# One local Ray cluster for this module: its tests run on one xdist worker (``--dist
# loadgroup``), never one cluster per worker.
pytestmark = pytest.mark.xdist_group("ray")


def test_shard_plan_covers_every_station_once() -> None:
    plan = FleetPlan(csms_url="ws://127.0.0.1:1", stations=51, first_index=7)
    parts = shard_plan(plan, shards=4)
    ids = [p.station_id(p.first_index + i) for p in parts for i in range(p.stations)]
    assert ids == [plan.station_id(7 + i) for i in range(51)]
    assert sorted(p.stations for p in parts) == [12, 13, 13, 13]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    try:
        import ray
    except ImportError:
        pytest.fail("Ray is not installed: pip install 'ocpp-harness[ray]' (or 'ray>=2.9')")
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
        logging_level="ERROR",
        log_to_driver=False,
    )
    try:
        yield ray
    finally:
        ray.shutdown()


async def test_fleet_over_two_ray_actors_boots_every_station(local_ray: Any) -> None:
    csms = MiniCsms(profile_limit_w=7_000.0)
    server = await serve_csms(csms)
    port = server.sockets[0].getsockname()[1]
    plan = FleetPlan(csms_url=f"ws://127.0.0.1:{port}", stations=50, stagger_wall_s=0.002)
    seen: list[dict[str, Any]] = []
    try:
        final = await asyncio.to_thread(
            run_on_ray,
            plan,
            address="auto",
            actors=2,
            speed=600.0,
            start=datetime(2026, 1, 1, tzinfo=UTC),
            duration_wall_s=60.0,
            on_summary=seen.append,
            until=lambda s: s["booted"] == 50 and s["connected"] == 50,
        )
    finally:
        server.close()
        await server.wait_closed()
    assert final["actors"] == 2
    assert final["stations"] == 50
    assert final["booted"] == 50
    assert final["connected_before_stop"] == 50
    assert final["profiles_set"] == 50
    assert final["errors"] == 0
    assert final["connected"] == 0  # all closed on stop
    assert set(csms.boots) == {plan.station_id(i) for i in range(50)}
    # The aggregate counts what the CSMS saw: every CALL the stations sent was answered.
    assert sum(final["buckets"]) >= sum(csms.boots.values()) * 2
    assert seen
    assert seen[-1]["booted"] == 50


def test_simulate_ray_cli_aggregates_the_actors(
    local_ray: Any, csms_port: tuple[MiniCsms, int]
) -> None:
    csms, port = csms_port
    result = CliRunner().invoke(
        cli,
        [
            "simulate",
            "--ray",
            "auto",
            "--ray-actors",
            "3",
            "--csms",
            f"ws://127.0.0.1:{port}",
            "--stations",
            "12",
            "--stagger",
            "0.001",
            "--speed",
            "600",
            "--duration",
            "1800",
            "--id-prefix",
            "R-",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "final: stations 12 booted 12" in result.output
    assert "errors 0" in result.output
    assert sorted(csms.boots) == [f"R-{i:06d}" for i in range(12)]
