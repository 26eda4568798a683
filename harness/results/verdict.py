"""Verdicts, requirement levels, and how verdicts combine and count.

The six verdicts (see ``ARCHITECTURE.md``, "Verdicts"):

========================  ==================================================================
``PASS``                  every check held.
``FAIL``                  the device under test broke a MUST.
``NON_STRICT``            the device broke a SHOULD; counts as a pass unless the run is strict.
``NOT_APPLICABLE``        the capability declaration excludes the case (or the check): it did
                          not run.
``INCONCLUSIVE``          the harness could not judge (setup failed, the lab meter went silent).
``ERROR``                 a defect of the harness itself (an exception in harness code).
========================  ==================================================================

A device fault is never an ``ERROR`` and a harness fault is never a ``FAIL``: ``FAIL`` and
``NON_STRICT`` only come out of :meth:`CheckResult.failed
<harness.results.model.CheckResult.failed>` (a judged requirement), ``ERROR`` only out of the
``harness_error`` constructors, which take the exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from harness.exitcodes import ExitCode
from harness.exitcodes import worst as worst_exit

__all__ = ["Level", "Requirement", "Summary", "Verdict", "combine", "worst"]


class Verdict(StrEnum):
    """The outcome of a check or a case."""

    PASS = "PASS"
    FAIL = "FAIL"
    NON_STRICT = "NON_STRICT"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    INCONCLUSIVE = "INCONCLUSIVE"
    ERROR = "ERROR"

    @property
    def severity(self) -> int:
        """Rank in the combination order (higher wins); ``NOT_APPLICABLE`` is 0."""
        return _SEVERITY[self]

    def effective(self, *, strict: bool) -> Verdict:
        """This verdict as the run counts it: ``NON_STRICT`` becomes ``FAIL`` when strict,
        ``PASS`` otherwise; every other verdict is unchanged."""
        if self is Verdict.NON_STRICT:
            return Verdict.FAIL if strict else Verdict.PASS
        return self


# The combination order, lowest first. Why this order:
# * NOT_APPLICABLE is the identity: a check that did not apply says nothing about the rest.
# * PASS < NON_STRICT: a broken SHOULD taints an otherwise clean case.
# * NON_STRICT < INCONCLUSIVE: a case that could not be judged in part cannot claim
#   "passed with remarks" -- the unjudged part might have failed.
# * INCONCLUSIVE < FAIL: a MUST proven broken stands, whatever else could not be judged.
# * FAIL < ERROR: when the harness itself misbehaved during a case, none of that case's
#   findings can be trusted, a FAIL included; the case must be rerun once the harness is
#   fixed. The individual checks (with the FAIL) stay in the result for the record.
_ORDER = (
    Verdict.NOT_APPLICABLE,
    Verdict.PASS,
    Verdict.NON_STRICT,
    Verdict.INCONCLUSIVE,
    Verdict.FAIL,
    Verdict.ERROR,
)
_SEVERITY = MappingProxyType({v: i for i, v in enumerate(_ORDER)})


def combine(a: Verdict, b: Verdict) -> Verdict:
    """The verdict of two findings together: the more severe one.

    Order: ``ERROR > FAIL > INCONCLUSIVE > NON_STRICT > PASS > NOT_APPLICABLE``.
    The operation is associative and commutative with ``NOT_APPLICABLE`` as identity.
    """
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """:func:`combine` over many verdicts; ``NOT_APPLICABLE`` for none."""
    # Severities are distinct, so the most severe is unique (combine's tie rule never applies).
    return max(verdicts, key=_SEVERITY.__getitem__, default=Verdict.NOT_APPLICABLE)


class Level(StrEnum):
    """How binding a requirement is (RFC 2119 keywords as used by the OCPP specification)."""

    MUST = "MUST"
    SHOULD = "SHOULD"


@dataclass(frozen=True, slots=True)
class Requirement:
    """One requirement a check judges.

    ``id`` is the specification's ID (``K01.FR.31``) or this project's (``VP-04``);
    ``text`` a few words of the requirement, for reports.
    """

    id: str
    level: Level
    text: str

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise ValueError("a requirement needs a non-empty id")
        if not isinstance(self.level, Level):
            raise ValueError(f"requirement {self.id}: level must be a Level, got {self.level!r}")


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts of a run's case verdicts, and the five figures of the CLI summary line.

    How each verdict maps onto the five words of
    ``N passed, N failed, N inconclusive, N skipped, N errors``:

    * ``passed``       = PASS, plus NON_STRICT unless ``strict``;
    * ``failed``       = FAIL, plus NON_STRICT when ``strict``;
    * ``inconclusive`` = INCONCLUSIVE: the harness could not judge (setup failed, the lab meter
      went silent, the station left); a person must look, but nothing is known to be wrong;
    * ``skipped``      = NOT_APPLICABLE (the case did not run, by declaration);
    * ``errors``       = ERROR only: a defect of the harness itself.

    Build one with :meth:`of`; :attr:`ok` and :attr:`exit_code` are what the CLI's exit status
    follows (an INCONCLUSIVE is never green: a run in which nothing could be judged must not
    end with 0).
    """

    counts: Mapping[Verdict, int] = field(default_factory=dict)
    strict: bool = False

    def __post_init__(self) -> None:
        full = {v: int(self.counts.get(v, 0)) for v in _ORDER}
        if any(n < 0 for n in full.values()):
            raise ValueError(f"verdict counts cannot be negative: {full}")
        object.__setattr__(self, "counts", MappingProxyType(full))

    @classmethod
    def of(cls, verdicts: Iterable[Verdict], *, strict: bool) -> Summary:
        """Count case verdicts (e.g. ``(r.verdict for r in reader.results())``)."""
        counts = dict.fromkeys(_ORDER, 0)
        for verdict in verdicts:
            counts[Verdict(verdict)] += 1
        return cls(counts=counts, strict=strict)

    @property
    def total(self) -> int:
        """Number of cases counted."""
        return sum(self.counts.values())

    @property
    def passed(self) -> int:
        """PASS, plus NON_STRICT unless strict."""
        extra = 0 if self.strict else self.counts[Verdict.NON_STRICT]
        return self.counts[Verdict.PASS] + extra

    @property
    def failed(self) -> int:
        """FAIL, plus NON_STRICT when strict."""
        extra = self.counts[Verdict.NON_STRICT] if self.strict else 0
        return self.counts[Verdict.FAIL] + extra

    @property
    def inconclusive(self) -> int:
        """INCONCLUSIVE."""
        return self.counts[Verdict.INCONCLUSIVE]

    @property
    def skipped(self) -> int:
        """NOT_APPLICABLE."""
        return self.counts[Verdict.NOT_APPLICABLE]

    @property
    def errors(self) -> int:
        """ERROR (a harness defect) only."""
        return self.counts[Verdict.ERROR]

    @property
    def ok(self) -> bool:
        """True when nothing failed and nothing needs attention (no FAIL, no INCONCLUSIVE,
        no ERROR)."""
        return self.failed == 0 and self.inconclusive == 0 and self.errors == 0

    @property
    def exit_code(self) -> ExitCode:
        """The process exit code these verdicts call for (:mod:`harness.exitcodes`): an ERROR
        wins over a FAIL, a FAIL over an INCONCLUSIVE; 0 when :attr:`ok`."""
        codes = [ExitCode.OK]
        if self.errors:
            codes.append(ExitCode.HARNESS_ERROR)
        if self.failed:
            codes.append(ExitCode.FAILED)
        if self.inconclusive:
            codes.append(ExitCode.INCONCLUSIVE)
        return worst_exit(*codes)

    def line(self) -> str:
        """The CLI summary line, always five parts in this order, e.g.
        ``"12 passed, 1 failed, 2 inconclusive, 3 skipped, 0 errors"`` (the words do not
        change with the number, so the line is easy to parse)."""
        return (
            f"{self.passed} passed, {self.failed} failed, {self.inconclusive} inconclusive, "
            f"{self.skipped} skipped, {self.errors} errors"
        )

    def breakdown(self) -> str:
        """Counts per verdict, omitting zeros, e.g. ``"PASS 12, NON_STRICT 2, ERROR 1"``;
        ``"no cases"`` when empty."""
        parts = [f"{v.value} {n}" for v, n in self.counts.items() if n]
        return ", ".join(parts) if parts else "no cases"
