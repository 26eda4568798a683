"""``expect_meter_values``: the OCA 1.6 meter-values validations (TC_070_CS, TC_071_CS) as a
pure judgement of MeterValues payloads, one sentence per broken rule."""

from __future__ import annotations

from typing import Any

import pytest

from harness.runner.meter_values_step import (
    configured_measurands,
    is_interval_data,
    meter_values_problems,
)


def meter_values(second: int, *, context: str | None = "Sample.Periodic", **extra: Any) -> Any:
    sampled: dict[str, Any] = {"value": "10", "measurand": "Current.Import", **extra}
    if context is not None:
        sampled["context"] = context
    energy = {"value": "1", "context": context or "Sample.Periodic"}  # no measurand: energy
    return {
        "connectorId": 1,
        "meterValue": [
            {"timestamp": f"2026-01-01T08:00:{second:02d}Z", "sampledValue": [sampled, energy]}
        ],
    }


def judge(payloads: list[Any], **options: Any) -> list[str]:
    settings: dict[str, Any] = {
        "interval_s": 10.0,
        "aligned": False,
        "context": "Sample.Periodic",
        "measurands": ("Current.Import", "Energy.Active.Import.Register"),
        "tolerance_s": 1.0,
        **options,
    }
    return meter_values_problems(payloads, **settings)


def test_samples_an_interval_apart_with_every_measurand_pass() -> None:
    # 1.6 defaults: no context is Sample.Periodic, no measurand is the energy register
    assert judge([meter_values(s, context=None) for s in (3, 13, 23)]) == []
    assert judge([meter_values(s) for s in (3, 13, 24)]) == []  # within ± 1 s


@pytest.mark.parametrize(
    ("payloads", "options", "problem"),
    [
        ([meter_values(s) for s in (3, 16, 26)], {}, "08:00:03.000 → 08:00:16.000 are 13 s apart"),
        ([meter_values(s) for s in (0, 10)], {"context": "Sample.Clock"}, "Sample.Periodic, not"),
        (
            [meter_values(s) for s in (0, 10)],
            {"measurands": ("Voltage",)},
            "no sampledValue of the configured Voltage",
        ),
        ([meter_values(s, location="EV") for s in (0, 10)], {}, "Current.Import with location EV"),
        (
            [meter_values(s, context="Sample.Clock") for s in (5, 15)],
            {"aligned": True, "context": "Sample.Clock"},
            "08:00:05.000 is not on a multiple of 10 s since midnight (5 s past one)",
        ),
        (
            [{"connectorId": 1, "meterValue": [{"timestamp": "soon", "sampledValue": []}]}],
            {},
            "'soon'",
        ),
    ],
)
def test_each_broken_rule_is_named(
    payloads: list[Any], options: dict[str, Any], problem: str
) -> None:
    found = judge(payloads, **options)
    assert any(problem in p for p in found), found


def test_soc_may_be_located_at_the_ev_and_aligned_samples_pass() -> None:
    payloads = [meter_values(s, context="Sample.Clock") for s in (0, 10, 20)]
    soc = {"value": "50", "measurand": "SoC", "location": "EV", "context": "Sample.Clock"}
    for payload in payloads:
        payload["meterValue"][0]["sampledValue"].append(soc)
    assert judge(payloads, aligned=True, context="Sample.Clock") == []


def test_an_empty_configuration_means_the_energy_register() -> None:
    assert configured_measurands("") == ("Energy.Active.Import.Register",)
    assert configured_measurands(" SoC, Voltage ") == ("SoC", "Voltage")


def test_only_interval_data_is_judged() -> None:
    """A Transaction.Begin reading or a Trigger answer is not what the interval produces."""
    assert is_interval_data(meter_values(3, context=None))
    assert is_interval_data(meter_values(3, context="Sample.Clock"))
    assert not is_interval_data(meter_values(3, context="Transaction.Begin"))
    assert not is_interval_data({"connectorId": 1, "meterValue": []})
