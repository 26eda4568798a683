"""The full report model as JSON, following ``reports/schema/report.schema.json``.

Top level: ``schema`` (``"ocpp-harness-report"``), ``schema_version`` (1), ``run`` (the
manifest as in ``run.json``), ``strict``, ``summary``, ``notes``, ``matrices``, ``cases``
(every case result as stored, without its series, plus ``effective`` and ``href``) and
``comparison`` (``null`` unless compared with another run). Rates are fractions 0..1 (or
``null`` when undefined). The schema file documents every field.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from harness.results import DeviceRef, Summary
from reports.compare import Comparison
from reports.model import Matrix, Rate, Report, case_href

__all__ = ["SCHEMA_VERSION", "report_dict", "report_schema", "write_json"]

SCHEMA_VERSION = 1


def report_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :func:`report_dict`'s output."""
    text = resources.files("reports").joinpath("schema/report.schema.json").read_text("utf-8")
    value: dict[str, Any] = json.loads(text)
    return value


def _summary(summary: Summary) -> dict[str, Any]:
    return {
        "counts": {v.value: n for v, n in summary.counts.items()},
        "total": summary.total,
        "passed": summary.passed,
        "failed": summary.failed,
        "inconclusive": summary.inconclusive,
        "skipped": summary.skipped,
        "errors": summary.errors,
        "line": summary.line(),
    }


def _rate(rate: Rate) -> dict[str, Any]:
    return {
        "passed": rate.passed,
        "counted": rate.counted,
        "by_count": rate.by_count,
        "weighted": rate.weighted,
    }


def _device(device: DeviceRef) -> dict[str, Any]:
    return device.to_dict()


def _matrix(matrix: Matrix) -> dict[str, Any]:
    return {
        "id": matrix.id,
        "title": matrix.title,
        "row_kind": matrix.row_kind.value,
        "context": [_device(d) for d in matrix.context],
        "headline": matrix.headline(),
        "weighting_note": matrix.weighting_note,
        "columns": [
            {
                "case_id": s.column.case_id,
                "title": s.column.title,
                "suite": s.column.suite,
                "category": s.column.category,
                "totals": _summary(s.totals),
                "rate": _rate(s.rate),
            }
            for s in matrix.column_stats
        ],
        "rows": [
            {
                "device": _device(r.device),
                "share": r.share,
                "outcome": r.outcome.value,
                "totals": _summary(r.totals),
                "cells": [
                    None
                    if c is None
                    else {
                        "case_id": c.case_id,
                        "key": c.key,
                        "verdict": c.verdict.value,
                        "effective": c.effective.value,
                        "reason": c.reason,
                        "href": c.href,
                    }
                    for c in r.cells
                ],
            }
            for r in matrix.rows
        ],
        "totals": _summary(matrix.totals),
        "overall": _rate(matrix.overall),
    }


def _comparison(comparison: Comparison) -> dict[str, Any]:
    return {
        "old_run_id": comparison.old_run_id,
        "new_run_id": comparison.new_run_id,
        "changes": [
            {
                "key": c.key,
                "case_id": c.case_id,
                "devices": c.devices,
                "kind": c.kind.value,
                "old": None if c.old is None else c.old.value,
                "new": None if c.new is None else c.new.value,
                "reason": c.reason,
            }
            for c in comparison.changes
        ],
        "figures": [
            {"name": f.name, "old": f.old, "new": f.new, "is_rate": f.is_rate}
            for f in comparison.figures
        ],
    }


def report_dict(report: Report, *, comparison: Comparison | None = None) -> dict[str, Any]:
    """The report as plain JSON data (see the module docstring and the schema)."""
    cases = []
    for result in report.results:
        body = result.to_dict()
        del body["series"]
        body["effective"] = result.effective_verdict(strict=report.strict).value
        body["href"] = case_href(result.key)
        cases.append(body)
    return {
        "schema": "ocpp-harness-report",
        "schema_version": SCHEMA_VERSION,
        "run": report.manifest.to_dict(),
        "strict": report.strict,
        "summary": _summary(report.summary),
        "notes": list(report.notes),
        "matrices": [_matrix(m) for m in report.matrices],
        "cases": cases,
        "comparison": None if comparison is None else _comparison(comparison),
    }


def write_json(report: Report, path: Path, *, comparison: Comparison | None = None) -> Path:
    """Write :func:`report_dict` to ``path`` (compact UTF-8 JSON); return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # No indent: only the compact form uses the C encoder (several times faster).
    text = json.dumps(report_dict(report, comparison=comparison), ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path
