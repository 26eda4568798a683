"""Unit conversion (A↔W) and the rounding rule of each OCPP version.

W = A × voltage × numberPhases (numberPhases defaults to 3). A limit is always rounded
*toward zero* to the version's precision, so a reported value never exceeds the exact one:
a charging limit never rises above a maximum and a discharge limit never becomes more
negative than allowed.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from harness.smartcharging.model import DEFAULT_NUMBER_PHASES, DEFAULT_VOLTAGE_V, RateUnit
from harness.versions import OcppVersion

__all__ = ["PRECISION", "convert", "round_toward_zero"]

PRECISION: dict[OcppVersion, Decimal] = {
    # 1.6 schema: limit "multipleOf": 0.1.
    OcppVersion.V16: Decimal("0.1"),
    # 2.0.1 ChargingSchedulePeriodType.limit: "Accepts at most one digit fraction (e.g. 8.1)".
    OcppVersion.V201: Decimal("0.1"),
    # 2.1 dropped that sentence; the oracle keeps one decimal so verdicts stay comparable.
    OcppVersion.V21: Decimal("0.1"),
}
"""Smallest step of a limit in a composite schedule of each version."""


def round_toward_zero(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded toward zero to a multiple of ``step`` (e.g. 0.1)."""
    return value.quantize(step, rounding=ROUND_DOWN)


def convert(
    value: Decimal,
    *,
    from_unit: RateUnit,
    to_unit: RateUnit,
    number_phases: int | None = None,
    voltage_v: Decimal = DEFAULT_VOLTAGE_V,
) -> Decimal:
    """Convert a rate between amperes (per phase) and watts (all phases together).

    ``number_phases=None`` means the default of 3. Use ``number_phases=1`` for a per-phase
    value (2.1 ``limit_L2``...). The result is exact to 28 significant digits, not rounded.
    """
    if from_unit is to_unit:
        return value
    phases = Decimal(DEFAULT_NUMBER_PHASES if number_phases is None else number_phases)
    if phases == 0:
        return Decimal(0)
    if from_unit is RateUnit.A:
        return value * voltage_v * phases
    return value / (voltage_v * phases)
