"""``ocpp-harness schedule``: errors name the profile and field; rejections go to stderr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from tests.smartcharging.helpers import T0, at, iso, oca_tc066_16, payload2x


def run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: Any, *extra: str
) -> tuple[int, str, str]:
    path = tmp_path / "p.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    code = main(["schedule", str(path), "--duration", "400", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_wrong_field_type_names_profile_index_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payloads = oca_tc066_16()
    payloads[1]["csChargingProfiles"]["stackLevel"] = "zero"
    code, out, err = run(tmp_path, capsys, payloads, "--at", iso(T0))
    assert code != 0
    assert out == ""
    assert "profile [1]" in err
    assert "csChargingProfiles.stackLevel" in err
    assert "integer" in err
    assert "Traceback" not in err


def test_missing_field_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payloads = [payload2x(evse=1, pid=1, purpose="TxDefaultProfile", stack=0,
                          periods=[(0, 8)], start=T0)]  # fmt: skip
    del payloads[0]["chargingProfile"]["chargingSchedule"][0]["chargingRateUnit"]
    code, _, err = run(tmp_path, capsys, payloads, "--ocpp", "2.0.1")
    assert code != 0
    assert "profile [0]" in err
    assert "chargingRateUnit" in err


def test_bad_enum_and_bad_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payloads = oca_tc066_16()
    payloads[2]["csChargingProfiles"]["chargingProfileKind"] = "Sometimes"
    code, _, err = run(tmp_path, capsys, payloads)
    assert code != 0
    assert "profile [2]" in err
    assert "chargingProfileKind" in err
    payloads = oca_tc066_16()
    payloads[0]["csChargingProfiles"]["chargingSchedule"]["startSchedule"] = "yesterday"
    code, _, err = run(tmp_path, capsys, payloads)
    assert code != 0
    assert "profile [0]" in err
    assert "startSchedule" in err
    assert "field csChargingProfiles.chargingSchedule.startSchedule: must be date-time" in err


def test_not_a_list_and_not_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(tmp_path, capsys, {"connectorId": 1})
    assert code != 0
    assert "expected a JSON list" in err
    code, _, err = run(tmp_path, capsys, "[{")
    assert code != 0
    assert "not JSON (line 1" in err


def test_rejected_profile_is_reported_with_rule_and_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payloads = [payload2x(evse=1, pid=1, purpose="TxProfile", stack=0, periods=[(0, 8)],
                          start=T0, transaction_id="nope")]  # fmt: skip
    code, out, err = run(tmp_path, capsys, payloads, "--ocpp", "2.0.1", "--default-limit", "32")
    assert code == 2
    assert (
        "profile [0] (id 1) Rejected: K01.FR.09 [tx-needs-transaction, reasonCode TxNotFound]"
        in err
    )
    assert json.loads(out)["schedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 32}
    ]


def test_a_gap_needs_a_default_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(tmp_path, capsys, oca_tc066_16()[1:2], "--duration", "400")
    assert code != 0
    assert "default_limit" in err


def test_at_defaults_to_the_transaction_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(tmp_path, capsys, oca_tc066_16(), "--transaction-start", iso(at(-4)))
    assert code == 0, err
    payload = json.loads(out)
    assert payload["scheduleStart"] == iso(at(-4))
    assert payload["chargingSchedule"]["chargingSchedulePeriod"][0] == {
        "startPeriod": 0,
        "limit": 8,
    }


def test_watts_for_the_station(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        tmp_path, capsys, oca_tc066_16(), "--at", iso(T0), "--unit", "W", "--evse", "0",
        "--transaction-start", iso(at(-60)),
    )  # fmt: skip
    assert code == 0, err
    periods = json.loads(out)["chargingSchedule"]["chargingSchedulePeriod"]
    assert periods[0] == {"startPeriod": 0, "limit": 5520}  # 8 A × 230 V × 3


def test_bad_option_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(tmp_path, capsys, oca_tc066_16(), "--at", "noon")
    assert code == 2
    assert "--at" in err


def two_tx_profiles() -> list[dict[str, Any]]:
    """A TxProfile for each of two transactions: 10 A on EVSE 1, 6 A on EVSE 2."""
    return [
        payload2x(evse=1, pid=1, purpose="TxProfile", stack=0, periods=[(0, 10)], start=None,
                  kind="Relative", transaction_id="tx-a"),
        payload2x(evse=2, pid=2, purpose="TxProfile", stack=0, periods=[(0, 6)], start=None,
                  kind="Relative", transaction_id="tx-b"),
    ]  # fmt: skip


def test_several_transactions_and_the_station_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        tmp_path, capsys, two_tx_profiles(), "--ocpp", "2.0.1", "--evse", "0", "--at", iso(T0),
        "--transaction", f"1=tx-a@{iso(at(-60))}", "--transaction", f"2=tx-b@{iso(at(-30))}",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["schedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16}
    ]


def test_an_evse_without_a_limit_counts_with_its_default_in_the_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--ocpp", "2.0.1", "--evse", "0", "--at", iso(T0), "--evses", "2",
              "--transaction", f"1=tx-a@{iso(at(-60))}", "--default-limit", "64"]  # fmt: skip
    payloads = two_tx_profiles()[:1]
    code, out, err = run(tmp_path, capsys, payloads, *common)
    assert code == 0, err
    # EVSE 2 has no limit: without a per-EVSE default the whole total is unlimited.
    assert json.loads(out)["schedule"]["chargingSchedulePeriod"][0]["limit"] == 64
    code, out, err = run(tmp_path, capsys, payloads, *common, "--evse-default-limit", "32")
    assert code == 0, err
    assert json.loads(out)["schedule"]["chargingSchedulePeriod"][0]["limit"] == 42


def test_the_supply_voltage_converts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        tmp_path, capsys, two_tx_profiles()[:1], "--ocpp", "2.0.1", "--at", iso(T0),
        "--unit", "W", "--voltage", "240", "--transaction", f"1=tx-a@{iso(at(-60))}",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["schedule"]["chargingSchedulePeriod"][0]["limit"] == 7200


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--transaction", "one=tx@2024-01-01T00:00:00Z"], "EVSE=ID@START"),
        (["--transaction", "0=tx@2024-01-01T00:00:00Z"], "EVSE ≥ 1"),
        (["--transaction", "1=tx@noon"], "ISO 8601"),
        (["--transaction", "1=a@2024-01-01T00:00:00Z", "--transaction",
          "1=b@2024-01-01T00:00:00Z"], "two transactions"),
        (["--evses", "1", "--evse", "2"], "EVSEs 1..1"),
        (["--voltage", "0"], "voltage > 0"),
        (["--evse-default-limit", "lots"], "a number"),
    ],
)  # fmt: skip
def test_bad_transaction_and_station_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], named: str
) -> None:
    payloads = two_tx_profiles()[:1]
    code, out, err = run(tmp_path, capsys, payloads, "--ocpp", "2.0.1", "--at", iso(T0), *extra)
    assert code == 2
    assert out == ""
    assert named in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[" * 100_000 + "]" * 100_000, "nest deeper than 64 levels"),
        ('[{"limit": NaN}]', "NaN is not a JSON number"),
        ('[{"limit": Infinity}]', "Infinity is not a JSON number"),
        ('[{"limit": 1e999}]', "$[0].limit: the number is not finite"),
    ],
    ids=["deep", "nan", "infinity", "overflow"],
)
def test_hostile_files_are_one_clear_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, said: str
) -> None:
    """Issue #16.12: no traceback, a line naming the file and what is wrong."""
    path = tmp_path / "profiles.json"
    path.write_text(text)
    code = main(["schedule", str(path), "--duration", "600"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert said in err
    assert str(path) in err


def test_a_negative_duration_is_named_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payloads = oca_tc066_16()
    payloads[0]["csChargingProfiles"]["chargingSchedule"]["duration"] = -300
    code, _, err = run(tmp_path, capsys, payloads)
    assert code == 2
    assert "chargingSchedule.duration: 0 s or more, got -300" in err
    assert "has no limit" not in err
