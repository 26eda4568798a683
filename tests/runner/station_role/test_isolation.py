"""Cases against a strict CSMS: one open transaction per token, ISO14443 UIDs only, new
transaction ids; and a CSMS that knows an EVSE only from the station's NotifyReport."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results import Verdict
from harness.runner.connect import case_identities
from harness.runner.operator import AutoOperator
from harness.runner.station_role.engine import TRIGGER_QUIET_S
from tests.runner.station_role.fake_csms import TestCsms
from tests.runner.station_role.helpers import failures, hook_parameters, run_suite

FIXED = {"id_tag": "04A1B2C3", "id_token": "04A1B2C3D4E5F6"}
"""One token for every case: only the wind-down (transactions ended) avoids ConcurrentTx."""


@pytest.mark.parametrize(
    ("version", "seed", "tokens"),
    [("1.6", 1, {}), ("1.6", 2, FIXED), ("2.0.1", 1, FIXED), ("2.0.1", 2, {})],
)
async def test_every_case_passes_a_strict_csms_in_one_run_in_any_order(
    tmp_path: Path, version: str, seed: int, tokens: dict[str, str]
) -> None:
    async with TestCsms(strict=True) as csms:
        results = await run_suite(
            csms,
            tmp_path,
            version=version,
            parameters={**hook_parameters(csms, timeout_s=3), **tokens},
            operator=AutoOperator(),
            seed=seed,
        )
    cases, distinct_tokens = {"1.6": (6, 3), "2.0.1": (34, 10)}[version]
    assert len(results) == cases
    for result in results.values():
        assert result.verdict is Verdict.PASS, f"{result.info.case_id}\n{failures(result)}"
    assert csms.ledger.refused == []
    assert csms.ledger.open_by_token == {}  # every case ended its transaction
    used = {
        r.info.parameters.get("id_tag", r.info.parameters.get("id_token")) for r in results.values()
    } - {None}
    # per case from the pattern (the cases that send a token), or the fixed one
    assert len(used) == (1 if tokens else distinct_tokens)


async def test_the_wind_down_is_in_the_step_log_and_ends_the_transaction(tmp_path: Path) -> None:
    async with TestCsms(strict=True) as csms:
        results = await run_suite(
            csms,
            tmp_path,
            version="2.0.1",
            parameters=hook_parameters(csms, timeout_s=3),
            operator=AutoOperator(),
            only=("TC_K_60_CSMS",),
        )
    log = [s.text for s in results["TC_K_60_CSMS"].steps]
    ended = [line for line in log if line.startswith("wind-down: TransactionEvent")]
    assert ended
    assert '"eventType":"Ended"' in ended[0]
    assert any(line.startswith("wind-down: StatusNotification") for line in log)
    assert csms.ledger.open_by_token == {}


async def test_a_csms_that_needs_the_device_model_can_be_tested_for_tx_profiles(
    tmp_path: Path,
) -> None:
    async with TestCsms(needs_report=True) as csms:
        results = await run_suite(
            csms,
            tmp_path,
            version="2.0.1",
            parameters=hook_parameters(csms, timeout_s=3),
            operator=AutoOperator(),
            only=("TC_K_60_CSMS", "TC_K_41_CSMS", "TC_K_01_CSMS"),
            trigger_quiet_s=TRIGGER_QUIET_S,  # the runner's default
        )
        station = csms.stations["CP-1"]
    for result in results.values():
        assert result.verdict is Verdict.PASS, f"{result.info.case_id}\n{failures(result)}"
    assert station.known_evses == {1}
    assert csms.errors == []


def test_an_identity_pattern_is_expanded_per_case_and_checked() -> None:
    params = {"id_token": "04{station:06X}{case:04X}{evse:02X}", "transaction_id": "{run}-{case}"}
    one = case_identities(params, version="2.0.1", case=1, station_id="CP-1", run="261207204617")
    two = case_identities(params, version="2.0.1", case=2, station_id="CP-1", run="261207204617")
    assert one["id_token"] == "04000000000101"
    assert one["id_token"] != two["id_token"]
    assert one["transaction_id"] == "261207204617-1"
    with pytest.raises(ValueError, match="id_token: 'HARNESS-TAG' is not an ISO14443 UID"):
        case_identities(
            {"id_token": "HARNESS-TAG"}, version="2.0.1", case=1, station_id="CP-1", run=""
        )
    with pytest.raises(ValueError, match=r"unknown field \{cas\}"):
        case_identities({"id_tag": "{cas}"}, version="1.6", case=1, station_id="CP-1", run="")
