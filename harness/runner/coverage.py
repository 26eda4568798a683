"""``ocpp-harness list --coverage``: the library's case files against the official catalogue
(``scenarios/catalogue/``, :mod:`harness.scenario.catalogue`).

Pure functions: :func:`coverage_of` compares catalogue blocks with the ids of the loaded case
files, :func:`render_coverage` turns the result into the lines printed. Two things are
inconsistencies (:attr:`Coverage.problems`, exit 2):

* a case file claims an official-looking id (``TC_...``) that no catalogue block lists;
* the catalogue's status disagrees with the files: ``implemented`` with no case file of that
  id, or ``missing`` / ``not_applicable`` while a case file has it.

Case files with ids of this project's own (``VP-04``, ``SC-201-03``) are counted as "ours".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.scenario.catalogue import (
    Block,
    CatalogueEntry,
    EntryStatus,
    Side,
    load_catalogue_dir,
)
from harness.scenario.errors import ScenarioLoadError
from harness.scenario.loader import collect_cases
from harness.scenario.model import OCA_ID

__all__ = [
    "BlockCount",
    "CaseRef",
    "Coverage",
    "CoverageRow",
    "coverage_of",
    "library_coverage",
    "render_coverage",
]


@dataclass(frozen=True)
class CaseRef:
    """A case file of the library as the comparison sees it."""

    case_id: str
    file: str
    versions: tuple[str, ...]


@dataclass(frozen=True)
class CoverageRow:
    """One official case: its catalogue entry, block, and the case files that have its id."""

    block: Block
    entry: CatalogueEntry
    files: tuple[str, ...]


@dataclass(frozen=True)
class BlockCount:
    """The counts of one block and side."""

    title: str
    side: Side
    official: int
    implemented: int
    not_applicable: int
    missing: int


@dataclass(frozen=True)
class Coverage:
    """The comparison: a row per official case, counts per block and side, our own case
    ids, and every inconsistency between catalogue and case files."""

    rows: tuple[CoverageRow, ...]
    counts: tuple[BlockCount, ...]
    ours: tuple[str, ...]
    problems: tuple[str, ...]


def coverage_of(blocks: Sequence[Block], cases: Iterable[CaseRef]) -> Coverage:
    """Compare ``blocks`` with ``cases``, each a case file's id, file and OCPP versions. An id
    names one case per version (OCA reuses TC_K_nn in 2.0.1 and 2.1): a case file counts for
    a block of its id whose ``ocpp_version`` it runs."""
    refs: dict[str, list[CaseRef]] = {}
    for ref in cases:
        refs.setdefault(ref.case_id, []).append(ref)
    listed = {(entry.id, block.ocpp_version) for block in blocks for entry in block.cases}
    problems: list[str] = []
    ours: list[str] = []
    for case_id, defined in sorted(refs.items()):
        if not OCA_ID.match(case_id):
            ours.append(case_id)
            continue
        for ref in defined:
            if not any((case_id, version) in listed for version in ref.versions):
                versions = ", ".join(ref.versions)
                problems.append(
                    f"{ref.file}: case id {case_id} looks official (TC_...) but no catalogue "
                    f"block of OCPP {versions} lists it; add it to scenarios/catalogue/ or give "
                    "the case an id of our own"
                )
    rows: list[CoverageRow] = []
    counts: list[BlockCount] = []
    for block in blocks:
        for side in Side:
            entries = [e for e in block.cases if e.side is side]
            if not entries:
                continue
            by_status = {s: sum(e.status is s for e in entries) for s in EntryStatus}
            counts.append(
                BlockCount(
                    block.title,
                    side,
                    len(entries),
                    by_status[EntryStatus.IMPLEMENTED],
                    by_status[EntryStatus.NOT_APPLICABLE],
                    by_status[EntryStatus.MISSING],
                )
            )
        for entry in block.cases:
            files = tuple(
                sorted(r.file for r in refs.get(entry.id, ()) if block.ocpp_version in r.versions)
            )
            rows.append(CoverageRow(block, entry, files))
            if entry.status is EntryStatus.IMPLEMENTED and not files:
                problems.append(
                    f"catalogue {block.block}: {entry.id} is marked implemented but no case "
                    "file has this id"
                )
            elif entry.status is not EntryStatus.IMPLEMENTED and files:
                problems.append(
                    f"catalogue {block.block}: {entry.id} is marked {entry.status} but "
                    f"{files[0]} has this id (mark it implemented)"
                )
    return Coverage(tuple(rows), tuple(counts), tuple(ours), tuple(problems))


def render_coverage(coverage: Coverage) -> list[str]:
    """The table (one line per official case), the counts per block and side, then the
    inconsistencies, as printed by ``ocpp-harness list --coverage``."""
    lines: list[str] = []
    current = None
    id_width = max([13, *(len(row.entry.id) for row in coverage.rows)])
    for row in coverage.rows:
        if row.block.block != current:
            current = row.block.block
            lines.append(f"{row.block.title} — {row.block.document}")
        entry = row.entry
        status = str(entry.status).replace("_", " ")
        lines.append(f"  {entry.id:<{id_width}} {entry.side:<8} {status:<15} {entry.title}")
        if entry.reason:
            lines.append(f"  {'':<{id_width}} {'':<8} {'':<15} reason: {entry.reason}")
    lines.append("")
    width = max([40, *(len(count.title) for count in coverage.counts)])
    lines.append(
        f"{'block':<{width}} {'side':<8} {'official':>8} {'implemented':>11} "
        f"{'n/a':>4} {'missing':>7}"
    )
    for count in coverage.counts:
        lines.append(
            f"{count.title:<{width}} {count.side:<8} {count.official:>8} {count.implemented:>11} "
            f"{count.not_applicable:>4} {count.missing:>7}"
        )
    lines.append(f"ours (not OCA ids): {len(coverage.ours)} case id(s)")
    for problem in coverage.problems:
        lines.append(f"inconsistent: {problem}")
    return lines


def library_coverage(root: Path) -> Coverage:
    """The coverage of the library at ``root`` (``scenarios/``): its catalogue folder against
    every case file under it. Raises :class:`~harness.scenario.ScenarioLoadError` for a bad
    catalogue or case file."""
    blocks = load_catalogue_dir(root / "catalogue")
    loaded = collect_cases([root])
    if not loaded.ok:
        raise ScenarioLoadError(loaded.all_problems())
    refs = (
        CaseRef(c.case.id, _shown(c.location.file, root), tuple(map(str, c.case.ocpp_versions)))
        for c in loaded.cases
    )
    return coverage_of(blocks, refs)


def _shown(file: str, root: Path) -> str:
    """``file`` relative to the folder holding ``root`` (``scenarios/ocpp201/...``)."""
    try:
        return str(Path(file).resolve().relative_to(root.resolve().parent))
    except ValueError:
        return file
