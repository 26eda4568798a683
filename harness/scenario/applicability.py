"""Whether a case can run against a declared DUT (:func:`selects`): versions, role, needs,
vehicle needs and, in a lab, steps that need a simulated vehicle.

Kept apart from :mod:`harness.scenario.capabilities` (the declaration and the vocabulary of
needs), which the case model imports: deciding applicability needs the case model in turn.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from harness.scenario.capabilities import Capabilities, Environment
from harness.scenario.model import Case
from harness.scenario.steps import Step
from harness.scenario.vehicle import VehicleFacts

__all__ = ["Applicability", "selects"]


@dataclass(frozen=True)
class Applicability:
    """Whether a case can run against a DUT; if not, every reason (NOT_APPLICABLE)."""

    case_id: str
    reasons: tuple[str, ...]
    versions: tuple[str, ...]
    """The OCPP versions both the case and the DUT support (the runner picks from these)."""

    @property
    def runnable(self) -> bool:
        """``True`` when nothing is missing."""
        return not self.reasons

    def __str__(self) -> str:
        if self.runnable:
            return f"{self.case_id}: runnable (OCPP {', '.join(self.versions)})"
        return f"{self.case_id}: NOT_APPLICABLE — " + "; ".join(self.reasons)


def _walk(steps: Iterable[Step], prefix: str) -> Iterator[tuple[str, Step]]:
    """Every step with its path, entering repeats."""
    for index, step in enumerate(steps):
        where = f"{prefix}steps[{index}]"
        yield where, step
        if step.kind == "repeat":
            yield from _walk(step.steps, f"{where}.")


def selects(
    case: Case,
    capabilities: Capabilities,
    *,
    environment: Environment = Environment.SIMULATION,
    vehicle: VehicleFacts | None = None,
) -> Applicability:
    """Decide whether ``case`` applies to the DUT that ``capabilities`` describes.

    Checks the OCPP versions, the DUT role, every need, every vehicle need against
    ``vehicle`` (the run's vehicle; ``None``: the declaration's ``vehicle:`` section, if
    any — unknown facts never exclude), and — in a lab — that no step needs a simulated
    vehicle (``set_soc``; plugging and unplugging become operator prompts).
    All reasons are collected, not just the first.
    """
    reasons: list[str] = []
    declared = [str(v) for v in capabilities.ocpp_versions]
    versions = tuple(str(v) for v in case.ocpp_versions if str(v) in declared)
    if not versions:
        reasons.append(
            f"applies to OCPP {', '.join(map(str, case.ocpp_versions))}; "
            f"the DUT declares {', '.join(declared)}"
        )
    if case.dut_role != capabilities.role:
        reasons.append(
            f"is for a DUT that is a {case.dut_role}; the declaration says role: "
            f"{capabilities.role}"
        )
    for need in case.needs:
        why = need.unmet(capabilities)
        if why is not None:
            reasons.append(why)
    facts = vehicle if vehicle is not None else capabilities.vehicle
    for vehicle_need in case.vehicle_needs:
        why = vehicle_need.unmet(facts)
        if why is not None:
            reasons.append(why)
    if environment is Environment.LAB:
        for where, step in _walk(case.steps, ""):
            if step.kind == "vehicle" and not step.possible_in_lab:
                reasons.append(
                    f"{where} (vehicle {step.action}) needs a simulated vehicle; "
                    "this run is in a lab"
                )
    return Applicability(case_id=case.id, reasons=tuple(reasons), versions=versions)
