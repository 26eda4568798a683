"""``fuzz`` for the engine: a seeded barrage of malformed requests, each answer judged.

The requests come from :func:`harness.robustness.generate_probes` (hypothesis, fixed seed);
each is sent as it is and answered within ``timeout_s``. The step gives two checks:

* at the step's level (MUST in the library): every request is *refused* — a CALLERROR, or
  ``Rejected`` for a charging profile the rules forbid, or no answer where the version needs
  none (OCPP-J: a malformed CALL is answered with a CALLERROR) — and the connection stays.
  A CALLRESULT that accepts a malformed request, a missing answer, or the DUT's connection
  closing (a DUT that crashes on a malformed message; the case stops) FAILs it;
* at SHOULD: each CALLERROR carries a code the specification's definitions give for that
  fault (:data:`harness.robustness.answers.ANSWERS`, each row citing its OCPP-J clause). The
  specs map faults to codes loosely (a 1.6 CiString20Type too long: a type or a property
  constraint?), so a different code is NON_STRICT, not FAIL.
* a barrage of no requests (no action or mutation the generator can use) is INCONCLUSIVE,
  never a vacuous PASS.

The seed is in the checks' text and the step log; the case's ``seed`` parameter is stored
with the result.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import hypothesis

from harness.robustness import Probe, generate_probes
from harness.runner.step_host import StepHost
from harness.runner.stepping import StopCase
from harness.runner.verdicts import CaseRecord
from harness.scenario import FuzzStep, Level, resolve_int, resolve_number

__all__ = ["run_fuzz"]

_SHOWN = 5
"""Wrong answers spelt out in a FAIL's text (all of them are counted)."""


async def run_fuzz(step: FuzzStep, record: CaseRecord, host: StepHost) -> None:
    """Run ``step``; raises :class:`~harness.runner.stepping.StopCase` when the DUT's
    connection closed (the case must stop)."""
    variables = record.variables
    seed = resolve_int(step.seed, variables=variables)
    count = resolve_int(step.count, variables=variables)
    timeout_s = resolve_number(step.timeout_s, variables=variables)
    caps = host.capabilities
    context = host.mirror.context()
    if caps is not None:
        context = replace(
            context, max_stack_level=caps.max_stack_level, max_periods=caps.max_periods
        )
    probes = generate_probes(
        version=host.endpoint.version,
        seed_value=seed,
        count=count,
        context=context,
        actions=step.actions,
        mutations=[m.value for m in step.mutations] if step.mutations else None,
    )
    if not probes:
        # A barrage of no requests proves nothing: the check cannot pass vacuously.
        record.unjudgeable(
            step,
            expected=f"{count} malformed requests from seed {seed}",
            reason=f"seed {seed}: the generator made no request for these actions and "
            "mutations, so nothing was checked",
        )
        return
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(Counter(p.mutation for p in probes).items()))
    record.note(
        f"fuzz: {len(probes)} requests from seed {seed} (hypothesis {hypothesis.__version__}; "
        f"{kinds})"
    )
    expected = (
        f"each of the {len(probes)} malformed requests (seed {seed}) answered within "
        f"{timeout_s:g} s with a CALLERROR its fault calls for (Rejected or a constraint "
        "CALLERROR for a charging profile the rules forbid), and the connection kept"
    )
    wrong: list[tuple[Probe, str, tuple[int, ...]]] = []
    codes: list[tuple[Probe, str, tuple[int, ...]]] = []
    tally: Counter[str] = Counter()
    for probe in probes:
        outcome = await host.endpoint.call_raw(
            probe.frame, answer_id=probe.answer_id, timeout_s=timeout_s, label=probe.describe()
        )
        if outcome.failure == "closed":
            shown = _listed(wrong)
            host.judge(
                step,
                ok=False,
                expected=expected,
                actual=(
                    f"seed {seed}: {host.endpoint.closed_text()} after request "
                    f"{probe.describe()}{'; before that: ' + shown if shown else ''}"
                ),
                frames=_frames(wrong, outcome.frames),
            )
            raise StopCase
        answered = outcome.failure != "timeout"
        problem = (
            outcome.detail
            if outcome.failure == "invalid"
            else probe.judge(
                error_code=outcome.error_code, payload=outcome.payload, answered=answered
            )
        )
        code_problem = probe.code_problem(outcome.error_code)
        if code_problem is not None:
            codes.append((probe, code_problem, outcome.frames))
        if problem is not None:
            wrong.append((probe, problem, outcome.frames))
        elif not answered:
            tally["not answered (allowed)"] += 1
        elif outcome.error_code is not None:
            tally[f"CALLERROR {outcome.error_code}"] += 1
        else:
            tally[f"status {(outcome.payload or {}).get('status')}"] += 1
    if wrong:
        actual = f"seed {seed}: {len(wrong)} of {len(probes)} not answered as required: " + _listed(
            wrong
        )
    else:
        summary = ", ".join(f"{n}× {what}" for what, n in sorted(tally.items()))
        actual = f"seed {seed}: all {len(probes)} answered as required ({summary})"
    host.judge(step, ok=not wrong, expected=expected, actual=actual, frames=_frames(wrong, ()))
    answered_with_codes = sum(n for what, n in tally.items() if what.startswith("CALLERROR"))
    code_actual = (
        f"seed {seed}: {len(codes)} CALLERROR(s) with another code: {_listed(codes)}"
        if codes
        else f"seed {seed}: every CALLERROR ({answered_with_codes}) carries an expected code"
    )
    host.judge(
        step.model_copy(update={"level": Level.SHOULD}),
        ok=not codes,
        expected="each CALLERROR carries a code the specification's definitions give for its "
        "fault (OCPP-J 1.6 §4.2.3, 2.0.1 Part 4 §4.3; the table harness.robustness.answers)",
        actual=code_actual,
        frames=_frames(codes, ()),
    )


def _listed(wrong: list[tuple[Probe, str, tuple[int, ...]]]) -> str:
    text = "; ".join(
        f"{probe.describe()}: expected {probe.expected()}, got {problem}"
        for probe, problem, _ in wrong[:_SHOWN]
    )
    return text + (f"; and {len(wrong) - _SHOWN} more" if len(wrong) > _SHOWN else "")


def _frames(
    wrong: list[tuple[Probe, str, tuple[int, ...]]], last: tuple[int, ...]
) -> tuple[int, ...]:
    return tuple(sorted({i for _, _, frames in wrong[:20] for i in frames} | set(last)))
