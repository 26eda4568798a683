"""Verdicts, case results and the append-only run store.

Typical use by a runner (``clock`` is the run's :class:`~harness.clock.Clock`)::

    writer = RunStore.create("runs", Manifest(run_id=new_run_id(started_at=clock.now()),
        started_at=clock.now(), target="sim", ocpp_versions=(OcppSubprotocol.V201,)))
    sink = writer.trace_sink(info.key)                   # info: CaseInfo; frames as they happen
    i = sink.append({"dir": "in", "raw": raw})           # index to cite as evidence
    ok = CheckResult.judge(req, ok=current_a <= 6.5, expected="<= 6 A (+0.5 A)",
                           actual=f"{current_a} A", frames=(i,))
    writer.write_result(CaseResult(info, t0, clock.now(), wall_s, checks=(ok,)))
    writer.finish(finished_at=clock.now())
    print(Summary.of((r.verdict for r in RunStore.open(writer.run_dir).results()),
                     strict=False).line())

See ``FORMAT.md`` in this package for the files of a run folder.
"""

from harness.results._json import ResultFormatError
from harness.results.case import CaseResult
from harness.results.devices import DeviceKind, DeviceRef, case_key
from harness.results.manifest import (
    FORMAT_VERSION,
    Manifest,
    RunStorageError,
    RunStoreError,
    TornLineWarning,
    new_run_id,
)
from harness.results.measurement import MeasurementSource, Phase, Quantity, Sample, Series, Unit
from harness.results.model import CaseInfo, CheckResult, Interruption, StepRecord
from harness.results.reader import RunReader, StoredResult
from harness.results.store import EventLog, OutsideTrace, RunStore, RunWriter, TraceSink
from harness.results.verdict import Level, Requirement, Summary, Verdict, combine, worst

__all__ = [
    "FORMAT_VERSION",
    "CaseInfo",
    "CaseResult",
    "CheckResult",
    "DeviceKind",
    "DeviceRef",
    "EventLog",
    "Interruption",
    "Level",
    "Manifest",
    "MeasurementSource",
    "OutsideTrace",
    "Phase",
    "Quantity",
    "Requirement",
    "ResultFormatError",
    "RunReader",
    "RunStorageError",
    "RunStore",
    "RunStoreError",
    "RunWriter",
    "Sample",
    "Series",
    "StepRecord",
    "StoredResult",
    "Summary",
    "TornLineWarning",
    "TraceSink",
    "Unit",
    "Verdict",
    "case_key",
    "combine",
    "new_run_id",
    "worst",
]
