"""Reports: pure functions from a stored run to matrices and their renderings.

Typical use (the runner calls :func:`write_reports` after a run)::

    from reports import write_reports, load_report, compare_reports
    paths = write_reports("runs/20261128T024000Z-3f9a2c", "out", ["html", "junit", "md"])
    report = load_report("runs/NEW", strict=False)          # the matrix model
    for matrix in report.matrices:
        print(matrix.title, matrix.headline())
    diff = compare_reports(load_report("runs/OLD"), report)  # new failures, fixed, figures

Command line: ``ocpp-harness report RUN_DIR [--format html,junit,json,md,csv]
[--compare OTHER_RUN] [--out DIR] [--strict]``.
"""

from reports.compare import CaseChange, ChangeKind, Comparison, FigureChange, compare_reports
from reports.csvreport import matrix_csv
from reports.html import render_html
from reports.jsonreport import report_dict, report_schema
from reports.junit import junit_xml
from reports.load import ReportError, load_report
from reports.markdown import markdown_summary
from reports.model import (
    Cell,
    Column,
    ColumnStats,
    Matrix,
    Rate,
    Report,
    Row,
    RowOutcome,
    build_report,
)
from reports.plot import render_plot
from reports.write import (
    DEFAULT_FORMATS,
    FILE_NAMES,
    ReportFormat,
    write_report_files,
    write_reports,
)

__all__ = [
    "DEFAULT_FORMATS",
    "FILE_NAMES",
    "CaseChange",
    "Cell",
    "ChangeKind",
    "Column",
    "ColumnStats",
    "Comparison",
    "FigureChange",
    "Matrix",
    "Rate",
    "Report",
    "ReportError",
    "ReportFormat",
    "Row",
    "RowOutcome",
    "build_report",
    "compare_reports",
    "junit_xml",
    "load_report",
    "markdown_summary",
    "matrix_csv",
    "render_html",
    "render_plot",
    "report_dict",
    "report_schema",
    "write_report_files",
    "write_reports",
]
