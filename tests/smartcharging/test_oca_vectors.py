"""The OCA documents' expected values reproduce exactly (x = 4 s).

OCPP 1.6 TestCaseDocument (FINAL 2024-04): TC_066_CS table 82, TC_072_CS table 84; OCPP 2.0.1
Part 6 (edition 3): TC_K_41_CS table 288, TC_K_40_CS.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.smartcharging import (
    Accepted,
    ProfileStore,
    RateUnit,
    StationContext,
    Transaction,
    compare_composite,
    composite_response,
    parse_set_charging_profile,
)
from harness.versions import OcppVersion
from tests.smartcharging.helpers import (
    T0,
    TC066_EXPECTED,
    TC066_TX_DEFAULT_RESUMES,
    TC072_EXPECTED,
    at,
    iso,
    oca_tc066_2x,
    oca_tc066_16,
    oca_tc072_2x,
    oca_tc072_16,
)


def _install(payloads: list[dict[str, Any]], version: OcppVersion, tx_id: str) -> ProfileStore:
    context = StationContext(evse_ids=(1,), transactions=((1, Transaction(tx_id, at(-60))),))
    store = ProfileStore(version)
    for payload in payloads:
        evse, profile = parse_set_charging_profile(payload, version=version)
        assert isinstance(store.install(evse, profile, context), Accepted)
    return store


def _periods(store: ProfileStore, tx_id: str, duration_s: int = 400) -> list[tuple[int, Any]]:
    context = StationContext(evse_ids=(1,), transactions=((1, Transaction(tx_id, at(-60))),))
    schedule = store.composite(
        evse_id=1, start=T0, duration_s=duration_s, unit=RateUnit.A, context=context
    )
    return [(p.start_period_s, p.limit) for p in schedule.periods]


def test_tc066_16() -> None:
    assert _periods(_install(oca_tc066_16(), OcppVersion.V16, "7"), "7") == TC066_EXPECTED


@pytest.mark.parametrize("version", [OcppVersion.V201, OcppVersion.V21])
def test_tc_k_41(version: OcppVersion) -> None:
    assert _periods(_install(oca_tc066_2x(), version, "tx-7"), "tx-7") == TC066_EXPECTED


def test_tc066_alternative_reading_differs() -> None:
    """The TxDefault resuming after the TxProfile's schedule is not what table 82 expects."""
    store = _install(oca_tc066_16(), OcppVersion.V16, "7")
    context = StationContext(evse_ids=(1,), transactions=((1, Transaction("7", at(-60))),))
    other = store.composite(
        evse_id=1, start=T0, duration_s=400, unit=RateUnit.A, context=context,
        tx_default_resumes=True,
    )  # fmt: skip
    assert [(p.start_period_s, p.limit) for p in other.periods] == TC066_TX_DEFAULT_RESUMES
    assert TC066_TX_DEFAULT_RESUMES != TC066_EXPECTED


def test_tc072_16() -> None:
    store = _install(oca_tc072_16(), OcppVersion.V16, "7")
    assert _periods(store, "7", duration_s=350) == TC072_EXPECTED


@pytest.mark.parametrize("version", [OcppVersion.V201, OcppVersion.V21])
def test_tc_k_40(version: OcppVersion) -> None:
    store = _install(oca_tc072_2x(), version, "t")
    assert _periods(store, "t", duration_s=350) == TC072_EXPECTED


def test_judge_fails_an_extra_equal_period() -> None:
    """OCA compares the period list exactly: 136 → 10 next to 46 → 10 is a FAIL."""
    context = StationContext(evse_ids=(1,), transactions=((1, Transaction("7", at(-60))),))
    store = _install(oca_tc066_16(), OcppVersion.V16, "7")
    expected = store.composite(
        evse_id=1, start=T0, duration_s=400, unit=RateUnit.A, context=context
    )
    good = composite_response(expected, OcppVersion.V16)
    assert compare_composite(expected, good, version=OcppVersion.V16, time_tolerance_s=2).ok
    bad = json.loads(json.dumps(good))
    bad["chargingSchedule"]["chargingSchedulePeriod"].insert(2, {"startPeriod": 136, "limit": 10})
    verdict = compare_composite(expected, bad, version=OcppVersion.V16, time_tolerance_s=2)
    assert not verdict.ok
    assert "number of periods" in verdict.describe()
    assert "136 s → 10 A" in verdict.actual_text
    assert (
        "periods 1 and 2: expected merged (adjacent periods of a composite schedule differ), "
        "got both 10 A"
    ) in verdict.describe()


def _write(tmp_path: Path, payloads: list[dict[str, Any]]) -> Path:
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps(payloads), encoding="utf-8")
    return path


def _cli_periods(out: str, version: str) -> list[tuple[int, float]]:
    payload = json.loads(out)
    body = payload["chargingSchedule"] if version == "1.6" else payload["schedule"]
    return [(p["startPeriod"], p["limit"]) for p in body["chargingSchedulePeriod"]]


@pytest.mark.parametrize(
    ("version", "payloads", "duration", "expected"),
    [
        ("1.6", oca_tc066_16(), "400", TC066_EXPECTED),
        ("2.0.1", oca_tc066_2x(), "400", TC066_EXPECTED),
        ("2.1", oca_tc066_2x(), "400", TC066_EXPECTED),
        ("1.6", oca_tc072_16(), "350", TC072_EXPECTED),
        ("2.0.1", oca_tc072_2x(), "350", TC072_EXPECTED),
    ],
    ids=["TC_066_CS", "TC_K_41_CS", "TC_K_41_CS-2.1", "TC_072_CS", "TC_K_40_CS"],
)
def test_vectors_through_the_cli(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    version: str,
    payloads: list[dict[str, Any]],
    duration: str,
    expected: list[tuple[int, int]],
) -> None:
    """``ocpp-harness schedule`` prints the documents' periods and duration."""
    path = _write(tmp_path, payloads)
    argv = ["schedule", str(path), "--duration", duration, "--evse", "1", "--at", iso(T0),
            "--ocpp", version, "--transaction-start", iso(at(-60))]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert _cli_periods(out, version) == expected
    body = json.loads(out)["chargingSchedule" if version == "1.6" else "schedule"]
    assert body["duration"] == int(duration)


def test_tc066_through_a_subprocess(tmp_path: Path) -> None:
    path = _write(tmp_path, oca_tc066_16())
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "schedule", str(path), "--duration", "400",
         "--at", iso(T0), "--transaction-start", iso(at(-60))],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert _cli_periods(proc.stdout, "1.6") == TC066_EXPECTED
