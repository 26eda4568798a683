"""``ocpp-harness scenario ...``: check scenario files, print schemas, select by capabilities."""

from __future__ import annotations

import json
from pathlib import Path

import click

from harness.scenario.capabilities import Environment, load_capabilities, selects
from harness.scenario.errors import ScenarioLoadError
from harness.scenario.loader import collect_cases
from harness.scenario.parameters import (
    ParameterOverrides,
    check_overrides,
    load_lab_parameters,
    parse_param_options,
)
from harness.scenario.schema import capabilities_json_schema, dump_schema, scenario_json_schema

__all__ = ["scenario"]


@click.group(
    epilog="Example:\n\n\b\n  ocpp-harness scenario validate scenarios/\n"
    "  ocpp-harness scenario select scenarios/ --capabilities dut.yaml --lab"
)
def scenario() -> None:
    """Check scenario files, print their JSON Schema, select cases for a DUT."""


def _overrides(params: tuple[str, ...], lab_params: Path | None) -> ParameterOverrides:
    overrides = ParameterOverrides()
    if lab_params is not None:
        overrides = load_lab_parameters(lab_params)
    return overrides.then(parse_param_options(params))


_PARAM = click.option(
    "--param",
    "params",
    multiple=True,
    metavar="[CASE_ID:]NAME=VALUE",
    help="Override a parameter (repeatable), e.g. --param pause_s=6h.",
)
_LAB_PARAMS = click.option(
    "--lab-params",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A lab parameter file (parameters: / cases: ID:).",
)


@scenario.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_PARAM
@_LAB_PARAMS
def validate(paths: tuple[Path, ...], params: tuple[str, ...], lab_params: Path | None) -> int:
    """Check scenario files and directories; print OK per file or every problem.

    Exits non-zero when any file (or parameter override) has a problem.
    """
    result = collect_cases(paths)
    failed = 0
    for file in result.files:
        problems = result.problems.get(file, [])
        if problems:
            failed += 1
            for problem in problems:
                click.echo(str(problem))
        else:
            count = sum(1 for loaded in result.cases if loaded.location.file == file)
            click.echo(f"OK {file} ({count} case{'s' if count != 1 else ''})")
    override_problems = []
    try:
        overrides = _overrides(params, lab_params)
        if result.ok:
            override_problems = check_overrides([c.case for c in result.cases], overrides)
    except ScenarioLoadError as exc:
        override_problems = list(exc.problems)
    for problem in override_problems:
        click.echo(str(problem))
    total = len(result.files)
    click.echo(f"{total - failed} of {total} file{'s' if total != 1 else ''} OK")
    return 1 if failed or override_problems else 0


@scenario.command()
@click.option("--capabilities", "which", flag_value="capabilities", help="The capability schema.")
@click.option("--scenario", "which", flag_value="scenario", default=True, help="(default)")
def schema(which: str) -> int:
    """Print the JSON Schema of scenario files (or of capability declarations)."""
    document = capabilities_json_schema() if which == "capabilities" else scenario_json_schema()
    click.echo(dump_schema(document), nl=False)
    return 0


@scenario.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--capabilities",
    "capabilities_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The DUT's capability declaration.",
)
@click.option("--lab", is_flag=True, help="A real vehicle and an operator (no simulation).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per case.")
def select(paths: tuple[Path, ...], capabilities_file: Path, lab: bool, as_json: bool) -> int:
    """Say which cases a DUT can run and why the others are NOT_APPLICABLE."""
    result = collect_cases(paths)
    problems = result.all_problems()
    try:
        capabilities = load_capabilities(capabilities_file)
    except ScenarioLoadError as exc:
        problems.extend(exc.problems)
    if problems:
        for problem in problems:
            click.echo(str(problem))
        return 1
    environment = Environment.LAB if lab else Environment.SIMULATION
    runnable = 0
    for loaded in result.cases:
        verdict = selects(loaded.case, capabilities, environment=environment)
        runnable += verdict.runnable
        if as_json:
            record = {
                "case": verdict.case_id,
                "runnable": verdict.runnable,
                "versions": list(verdict.versions),
                "reasons": list(verdict.reasons),
            }
            click.echo(json.dumps(record))
        else:
            click.echo(str(verdict))
    if not as_json:
        total = len(result.cases)
        click.echo(f"{runnable} runnable, {total - runnable} not applicable")
    return 0
