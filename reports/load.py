"""Reading a stored run for the reports: the model, traces and plot-ready series."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.results import RunReader, RunStore, RunStoreError, TornLineWarning
from harness.results.reader import read_stored_bytes, stored_path
from reports.model import Report, build_report

__all__ = ["PlotSeries", "ReportError", "load_report", "read_plot_series", "read_trace"]


class ReportError(Exception):
    """A report cannot be made as asked (missing or corrupt run folder, bad option); the
    message names the file or option and what was expected."""


def load_report(run_dir: Path | str, *, strict: bool = False) -> Report:
    """Read the run folder ``run_dir`` and build its :class:`~reports.model.Report`.

    A run that did not finish, or whose last result line is torn, is still reported, with a
    note saying so. A missing or corrupt run folder raises :class:`ReportError`.
    """
    reader = open_run(run_dir)
    notes: list[str] = []
    if not reader.finished:
        notes.append(
            "the run did not finish (run.json has no finished_at): it crashed or is still "
            "going, so cases may be missing"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TornLineWarning)
        try:
            results = list(reader.results(with_series=False))
        except RunStoreError as exc:
            raise ReportError(str(exc)) from None
    notes.extend(str(w.message) for w in caught if issubclass(w.category, TornLineWarning))
    return build_report(reader.manifest, results, strict=strict, notes=notes)


def open_run(run_dir: Path | str) -> RunReader:
    """Open a run folder, turning the store's errors into :class:`ReportError`."""
    path = Path(run_dir)
    if not path.is_dir():
        raise ReportError(f"{path}: no such run folder")
    try:
        return RunStore.open(path)
    except RunStoreError as exc:
        raise ReportError(str(exc)) from None


def read_trace(reader: RunReader, key: str) -> list[dict[str, Any]]:
    """The frames of case ``key`` (empty when it recorded none); a torn last frame is
    skipped (the store warns)."""
    if not stored_path(reader.run_dir / "traces" / f"{key}.jsonl").exists():
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TornLineWarning)
        try:
            return reader.trace(key)
        except RunStoreError as exc:
            raise ReportError(str(exc)) from None


_NUMBER_TYPES = {int, float, type(None)}


@dataclass(frozen=True, slots=True)
class PlotSeries:
    """A series reduced to what a plot needs: times in seconds since ``origin``."""

    name: str
    quantity: str
    unit: str
    phase: str | None
    times_s: tuple[float, ...]
    values: tuple[float | None, ...]


def read_plot_series(reader: RunReader, key: str, *, origin: datetime) -> list[PlotSeries]:
    """The series of case ``key`` for plotting (empty when it has none).

    This reads ``series/<key>.json`` directly (see the store's ``FORMAT.md``) instead of
    through :meth:`RunReader.series`, which builds and checks a dataclass per sample and is
    about ten times slower; the shape is still checked, with errors naming the file.
    """
    path = reader.run_dir / "series" / f"{key}.json"
    if not stored_path(path).exists():
        return []
    try:
        body = json.loads(read_stored_bytes(path).decode("utf-8"))
        out = []
        stamps: list[str] = []
        times: tuple[float, ...] = ()
        for item in body["series"]:
            phase = item.get("phase")
            quantity = str(item["quantity"])
            samples = item["samples"]
            these = [pair[0] for pair in samples]
            if these != stamps:  # series of a case usually share their sample times
                stamps = these
                times = tuple((datetime.fromisoformat(t) - origin).total_seconds() for t in stamps)
            values = tuple([pair[1] for pair in samples])
            if not {type(v) for v in values} <= _NUMBER_TYPES:
                raise TypeError(f"{quantity}: sample values must be numbers or null")
            name = f"{quantity}.{phase}" if phase else quantity
            out.append(PlotSeries(name, quantity, str(item["unit"]), phase, times, values))
        return out
    except RunStoreError as exc:
        raise ReportError(str(exc)) from None
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise ReportError(f"{path}: not a series file as FORMAT.md describes: {exc!r}") from None
