"""``ocpp-harness scenario ...``: check scenario files, print schemas, select by capabilities."""

from __future__ import annotations

import json
from pathlib import Path

import click

from harness.exitcodes import ExitCode
from harness.proxy.importers import RecordingFormatError, Sender, load_recording
from harness.scenario.capabilities import Environment, load_capabilities, selects
from harness.scenario.errors import ScenarioLoadError
from harness.scenario.fields import DutRole
from harness.scenario.from_trace import FromTraceOptions, scenario_from_recording, scenario_yaml
from harness.scenario.loader import collect_cases, load_case_file
from harness.scenario.parameters import (
    ParameterOverrides,
    check_overrides,
    load_lab_parameters,
    parse_param_options,
)
from harness.scenario.redact import Tolerance
from harness.scenario.schema import capabilities_json_schema, dump_schema, scenario_json_schema
from harness.versions import OcppVersion

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
    return int(ExitCode.BAD_INPUT) if failed or override_problems else int(ExitCode.OK)


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
        return int(ExitCode.BAD_INPUT)
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


@scenario.command("from-trace")
@click.argument("trace", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--role",
    required=True,
    type=click.Choice(["station", "csms"]),
    help="What the device under test is; the harness replays the other side.",
)
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Multiply the recorded gaps (0.1 = ten times faster).",
)
@click.option(
    "--perspective",
    type=click.Choice(["station", "csms"]),
    help="Who wrote the log, for in/out directions.",
)
@click.option("--ocpp-version", type=click.Choice(["1.6", "2.0.1", "2.1"]), help="(inferred)")
@click.option("--case-id", help="Id of the generated case (default: REPLAY-<file name>).")
@click.option("--tolerance", type=float, default=0.5, show_default=True, help="Absolute.")
@click.option("--rel-tolerance", type=float, default=0.05, show_default=True, help="Relative.")
@click.option("--redact-serials", is_flag=True, help="Also replace serial numbers, ICCID, IMSI.")
def from_trace(
    trace: Path,
    role: str,
    out_file: Path,
    time_scale: float,
    perspective: str | None,
    ocpp_version: str | None,
    case_id: str | None,
    tolerance: float,
    rel_tolerance: float,
    redact_serials: bool,
) -> int:
    """Write a scenario file that replays the recording TRACE against a DUT of --role.

    TRACE is a harness trace (traces/<key>.jsonl of a run, e.g. from ocpp-harness proxy) or
    JSON lines [direction, timestamp, frame]. The written file is checked like validate.
    """
    try:
        recording = load_recording(
            trace, perspective=Sender(perspective) if perspective is not None else None
        )
        options = FromTraceOptions(
            role=DutRole(role),
            version=OcppVersion(ocpp_version) if ocpp_version is not None else None,
            time_scale=time_scale,
            case_id=case_id,
            tolerance=Tolerance(abs=tolerance, rel=rel_tolerance),
            redact_serials=redact_serials,
        )
        case = scenario_from_recording(recording, options)
    except (RecordingFormatError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    out_file.write_text(scenario_yaml(case), encoding="utf-8")
    try:
        load_case_file(out_file)
    except ScenarioLoadError as exc:
        raise click.ClickException(f"the generated scenario does not load:\n{exc}") from None
    steps = len(case["steps"])
    click.echo(f"wrote {out_file}: case {case['id']}, {steps} steps")
    return 0
