"""Running the CSMS-side suite against a test CSMS."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from harness.clock import ScaledClock
from harness.results import CaseResult, Manifest, RunStore, new_run_id
from harness.runner.connect import csms_capabilities, run_cases_connect
from harness.runner.operator import Operator
from harness.runner.run import PlannedCase
from harness.scenario import load_cases, load_lab_parameters, resolve_parameters
from harness.transport import OcppSubprotocol
from tests.runner.station_role.fake_csms import GET_PROFILES, TestCsms

LIBRARY = Path(__file__).resolve().parents[3] / "scenarios" / "csms"
HOOKS = {
    "hook_tx_default": "tx_default",
    "hook_tx_profile": "tx_profile",
    "hook_remote_start": "remote_start",
    "hook_composite": "composite",
    "hook_clear": "clear",
    "hook_session": "session",
}
K201_HOOKS = {
    "hook_station_max": "station_max",
    "hook_tx_default_all": "tx_default_all",
    "hook_recurring": "recurring",
    "hook_composite_evse": "composite_evse",
    "hook_composite_station": "composite_station",
    "hook_replace": "replace",
    "hook_clear_criteria": "clear_criteria",
    **{f"hook_get_profiles_{v}": f"get_profiles_{v}" for v in GET_PROFILES},
    "hook_renegotiate": "renegotiate",
    "hook_tx_profile_no_tx": "tx_profile_no_tx",
    "hook_not_supported": "not_supported",
    "hook_multiple": "multiple",
}
"""The hooks of the 2.0.1 block K cases of the catalogue (issue 18): :func:`run_suite` adds
them to a 2.0.1 run, so that a lab file of the other cases need not name them."""


def hook_parameters(csms: TestCsms, *, timeout_s: float) -> dict[str, Any]:
    """Lab parameters: every hook points at the test CSMS's control port."""
    return {"csms_timeout_s": timeout_s, **{name: csms.hook(what) for name, what in HOOKS.items()}}


async def run_suite(
    csms: TestCsms,
    tmp_path: Path,
    *,
    version: str,
    parameters: Mapping[str, Any],
    operator: Operator,
    only: tuple[str, ...] = (),
    paths: tuple[Path, ...] = (),
    seed: int | None = None,
    trigger_quiet_s: float = 0.1,
) -> dict[str, CaseResult]:
    """Run the library's CSMS cases of ``version`` (or the case files ``paths``) against
    ``csms`` in one run (shuffled with ``seed`` when given; the CSMS quiet for
    ``trigger_quiet_s`` before a trigger: shorter than the runner's default, as the test
    CSMS asks at once); results by case id."""
    folder = LIBRARY / ("ocpp16" if version == "1.6" else "ocpp201")
    cases = [c for c in load_cases(list(paths) or [folder]) if not only or c.id in only]
    if seed is not None:
        random.Random(seed).shuffle(cases)
    params_file = tmp_path / f"lab-{version}.yaml"
    if version == "2.0.1":
        parameters = {**{n: csms.hook(w) for n, w in K201_HOOKS.items()}, **parameters}
    params_file.write_text(yaml.safe_dump({"parameters": dict(parameters)}))
    overrides = load_lab_parameters(params_file)
    planned = [PlannedCase(c, resolve_parameters(c, overrides)) for c in cases]
    clock = ScaledClock(speed=1.0, start=datetime.now(UTC))
    manifest = Manifest(
        run_id=new_run_id(started_at=clock.now()),
        started_at=clock.now(),
        target=f"connect {csms.url()}",
        ocpp_versions=(OcppSubprotocol.V16 if version == "1.6" else OcppSubprotocol.V201,),
    )
    with RunStore.create(tmp_path / "runs", manifest) as writer:
        results = await run_cases_connect(
            planned,
            url=csms.url(),
            writer=writer,
            clock=clock,
            operator=operator,
            capabilities=csms_capabilities([version]),
            trigger_quiet_s=trigger_quiet_s,
        )
        writer.finish(finished_at=clock.now())
    return {r.info.case_id: r for r in results}


def failures(result: CaseResult) -> str:
    """Every non-passing check as Requirement / Expected / Actual text."""
    return "\n".join(c.explain() for c in result.checks if c.verdict.value != "PASS") + (
        f"\n{result.interruption.reason}" if result.interruption else ""
    )
