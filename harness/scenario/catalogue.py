"""The official test-case catalogue (``scenarios/catalogue/*.yaml``): every OCA test id of the
blocks the library covers, with its name, side and status in this library.

A catalogue file is one block (e.g. OCPP 2.0.1 functional block K)::

    block: ocpp201-k
    title: OCPP 2.0.1 block K (Smart Charging)
    ocpp_version: "2.0.1"
    document: "OCA OCPP 2.0.1 Part 6 Test Cases (edition 3)"
    title_sources: {octt-21: "where the names come from ..."}
    cases:
      - {id: TC_K_03_CS, side: station, status: missing, title: "...", title_source: octt-21}

``status`` is ``implemented`` (a case file of the library has the id), ``not_applicable`` (a
harness cannot run it; ``reason`` says why, as a lab would accept it) or ``missing``.
``title_source`` names an entry of ``title_sources``: where the official name was read (with
``page`` where the source gives one), so that a name not confirmed for this edition says so.

Problems read ``file:line:column: field: what was expected`` and are raised together as one
:class:`~harness.scenario.ScenarioLoadError`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.scenario.errors import Problem, ScenarioLoadError, SourceLocation
from harness.scenario.model import OCA_ID
from harness.scenario.translate import problems_from_validation
from harness.scenario.yamlsource import read_yaml

__all__ = [
    "Block",
    "CatalogueEntry",
    "EntryStatus",
    "Side",
    "load_catalogue_dir",
    "load_catalogue_file",
]


class Side(StrEnum):
    """Which device the official case tests."""

    STATION = "station"
    CSMS = "csms"


class EntryStatus(StrEnum):
    """Where the library stands on an official case."""

    IMPLEMENTED = "implemented"
    NOT_APPLICABLE = "not_applicable"
    MISSING = "missing"


class CatalogueEntry(BaseModel):
    """One official test case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=OCA_ID.pattern, description="The official id, e.g. TC_K_03_CS.")
    side: Side
    status: EntryStatus
    title: str = Field(min_length=1, description="The official test case name.")
    title_source: str = Field(min_length=1, description="A key of the block's title_sources.")
    page: int | None = Field(default=None, ge=1, description="Page of the source, if given.")
    reason: str | None = Field(
        default=None, min_length=1, description="Why a harness cannot run it (not_applicable)."
    )
    note: str | None = Field(default=None, description="What the case needs (missing).")


class Block(BaseModel):
    """One catalogue file: the official cases of one block of one OCPP version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    block: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    ocpp_version: str = Field(min_length=1)
    document: str = Field(min_length=1, description="The official document the ids come from.")
    title_sources: dict[str, str] = Field(min_length=1)
    cases: tuple[CatalogueEntry, ...] = Field(min_length=1)


def load_catalogue_file(path: Path) -> Block:
    """Read and check one catalogue file (raises :class:`ScenarioLoadError`)."""
    located, problems = read_yaml(path)
    if located is None:
        raise ScenarioLoadError(problems)
    try:
        block = Block.model_validate(located.data)
    except ValidationError as exc:
        raise ScenarioLoadError(problems_from_validation(exc, located, Block)) from None
    seen: set[str] = set()
    for index, entry in enumerate(block.cases):
        path_of = ("cases", index)

        def problem(field: str, message: str, path_of: tuple[str | int, ...] = path_of) -> None:
            problems.append(Problem(located.where((*path_of, field)), (*path_of, field), message))

        if entry.id in seen:
            problem("id", f"{entry.id} is listed twice")
        seen.add(entry.id)
        expected_side = Side.CSMS if entry.id.endswith("_CSMS") else Side.STATION
        if entry.side is not expected_side:
            problem("side", f"expected {expected_side} for {entry.id} (its suffix says so)")
        if entry.title_source not in block.title_sources:
            known = ", ".join(sorted(block.title_sources))
            problem("title_source", f"expected one of the file's title_sources ({known})")
        if (entry.status is EntryStatus.NOT_APPLICABLE) != (entry.reason is not None):
            problem("reason", "expected a reason exactly when the status is not_applicable")
    if problems:
        raise ScenarioLoadError(problems)
    return block


def load_catalogue_dir(folder: Path) -> list[Block]:
    """Every ``*.yaml`` of ``folder``, in name order; an id in two blocks of one OCPP version
    is a problem."""
    blocks: list[Block] = []
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            blocks.append(load_catalogue_file(path))
        except ScenarioLoadError as exc:
            problems.extend(exc.problems)
    owner: dict[tuple[str, str], str] = {}  # one id per OCPP version (OCA reuses TC_K_nn)
    for block in blocks:
        for entry in block.cases:
            key = (entry.id, block.ocpp_version)
            if key in owner:
                problems.append(
                    Problem(
                        SourceLocation(str(folder), 0, 0),
                        ("cases",),
                        f"{entry.id} is in blocks {owner[key]} and {block.block}",
                    )
                )
            owner[key] = block.block
    if problems:
        raise ScenarioLoadError(problems)
    return blocks
