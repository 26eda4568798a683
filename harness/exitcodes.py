"""The process exit codes of every ``ocpp-harness`` command, in one place.

Every command returns one of these, so that a CI job or a lab script can tell a failing
device from bad input, from a run that could not judge, from a defect of the harness:

====  ==================  =====================================================================
code  name                when
====  ==================  =====================================================================
0     OK                  every case passed (NOT_APPLICABLE and, unless ``--strict``,
                          NON_STRICT count as passed)
1     FAILED              at least one case FAILed (NON_STRICT too under ``--strict``);
                          ``report --compare`` with new failures
2     BAD_INPUT           bad command line, file, declaration or parameter; a port in use
3     INCONCLUSIVE        no FAIL, but a case could not be judged (INCONCLUSIVE); ``report`` on
                          a run that did not finish (unless ``--allow-incomplete``)
4     HARNESS_ERROR       a defect of the harness itself (an ERROR verdict, an internal error)
5     STORAGE             the run folder cannot be written (disk full, read-only folder)
130   INTERRUPTED         stopped by the user (Ctrl-C)
====  ==================  =====================================================================

When several apply, the most serious wins, in the order STORAGE, HARNESS_ERROR, FAILED,
INCONCLUSIVE: a run whose results may be lost or wrong must not read as a device's FAIL, and a
FAIL must not hide behind an INCONCLUSIVE.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode", "worst"]


class ExitCode(IntEnum):
    """Process exit codes of ``ocpp-harness`` (see the module docstring for the table)."""

    OK = 0
    FAILED = 1
    BAD_INPUT = 2
    INCONCLUSIVE = 3
    HARNESS_ERROR = 4
    STORAGE = 5
    INTERRUPTED = 130


_SEVERITY: dict[ExitCode, int] = {
    ExitCode.OK: 0,
    ExitCode.INCONCLUSIVE: 1,
    ExitCode.FAILED: 2,
    ExitCode.HARNESS_ERROR: 3,
    ExitCode.STORAGE: 4,
    ExitCode.BAD_INPUT: 5,
    ExitCode.INTERRUPTED: 6,
}


def worst(*codes: ExitCode) -> ExitCode:
    """The most serious of ``codes`` (``OK`` when none is given)."""
    return max(codes, key=_SEVERITY.__getitem__, default=ExitCode.OK)
