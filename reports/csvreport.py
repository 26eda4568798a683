"""The matrices as one CSV table (for spreadsheets).

One line per matrix row: ``matrix``, ``device_kind``, ``device_id``, ``device_label``,
``market_share`` (the normalised weight, 0..1, empty without weights), ``outcome``, the
``passed``/``failed``/``inconclusive``/``skipped``/``errors`` counts, then one column per
case id (the union of all matrices' cases, in matrix column order) holding the verdict,
empty when not run.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from reports.model import Report

__all__ = ["matrix_csv", "write_csv"]

FIXED_COLUMNS = (
    "matrix",
    "device_kind",
    "device_id",
    "device_label",
    "market_share",
    "outcome",
    "passed",
    "failed",
    "inconclusive",
    "skipped",
    "errors",
)


def matrix_csv(report: Report) -> str:
    """The CSV text (``\\r\\n`` line ends, as the csv module writes by default)."""
    case_ids: list[str] = []
    for matrix in report.matrices:
        for column in matrix.columns:
            if column.case_id not in case_ids:
                case_ids.append(column.case_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*FIXED_COLUMNS, *case_ids])
    for matrix in report.matrices:
        index = {c.case_id: i for i, c in enumerate(matrix.columns)}
        for row in matrix.rows:
            verdicts = []
            for case_id in case_ids:
                i = index.get(case_id)
                cell = None if i is None else row.cells[i]
                verdicts.append("" if cell is None else cell.verdict.value)
            writer.writerow(
                [
                    matrix.id,
                    row.device.kind.value,
                    row.device.id,
                    row.device.label,
                    "" if row.share is None else f"{row.share:.6f}",
                    row.outcome.value,
                    row.totals.passed,
                    row.totals.failed,
                    row.totals.inconclusive,
                    row.totals.skipped,
                    row.totals.errors,
                    *verdicts,
                ]
            )
    return buffer.getvalue()


def write_csv(report: Report, path: Path) -> Path:
    """Write :func:`matrix_csv` to ``path``; return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(matrix_csv(report), encoding="utf-8", newline="")
    return path
