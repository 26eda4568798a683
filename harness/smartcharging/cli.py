"""``ocpp-harness schedule``: install SetChargingProfile payloads, print the composite."""

from __future__ import annotations

import json
import math
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from harness.clock import utc
from harness.exitcodes import ExitCode
from harness.session.frames import MAX_NESTING, nests_deeper_than
from harness.smartcharging.model import (
    ChargingProfile,
    OcppVersion,
    Purpose,
    RateUnit,
    StationContext,
    Transaction,
)
from harness.smartcharging.payloads import PayloadError, parse_set_charging_profile
from harness.smartcharging.responses import composite_response
from harness.smartcharging.rules import Rejected
from harness.smartcharging.store import ProfileStore

__all__ = ["schedule_command"]


def _instant(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return utc(text)
    except ValueError:
        raise click.BadParameter(
            f"expected an ISO 8601 date-time, got {text!r}", param_hint=option
        ) from None


class BadProfilesFile(click.ClickException):
    """The PROFILES file cannot be used (unreadable, not JSON, too deep, not finite, not a
    SetChargingProfile payload): one line naming the file and what was expected; exit 2."""

    exit_code = ExitCode.BAD_INPUT


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (a limit must be a finite number)")


def _non_finite(value: Any, where: str = "$") -> str | None:
    """The JSON path of the first number that is not finite (``1e999``), if any."""
    if isinstance(value, float) and not math.isfinite(value):
        return where
    if isinstance(value, dict):
        items: Any = ((f"{where}.{k}", v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for path, item in items:
        found = _non_finite(item, path)
        if found is not None:
            return found
    return None


def _load(path: Path, version: OcppVersion) -> list[tuple[int, ChargingProfile]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadProfilesFile(f"{path}: cannot read: {exc}") from None
    if nests_deeper_than(text, MAX_NESTING):
        raise BadProfilesFile(
            f"{path}: arrays/objects nest deeper than {MAX_NESTING} levels; expected a list "
            "of SetChargingProfile request payloads"
        )
    try:
        data: Any = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise BadProfilesFile(
            f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except ValueError as exc:
        raise BadProfilesFile(f"{path}: {exc}") from None
    infinite = _non_finite(data)
    if infinite is not None:
        raise BadProfilesFile(f"{path}: {infinite}: the number is not finite")
    if not isinstance(data, list):
        raise BadProfilesFile(
            f"{path}: expected a JSON list of SetChargingProfile request payloads, "
            f"got a JSON {type(data).__name__}"
        )
    out = []
    for index, payload in enumerate(data):
        try:
            out.append(parse_set_charging_profile(payload, version=version))
        except PayloadError as exc:
            raise BadProfilesFile(
                f"{path}: profile [{index}] (OCPP {version} SetChargingProfile): "
                f"field {exc.field}: {exc.expected}"
            ) from None
    return out


def _default_start(
    profiles: list[tuple[int, ChargingProfile]], tx_start: datetime | None
) -> datetime | None:
    if tx_start is not None:
        return tx_start
    starts = [
        s.start_schedule for _, p in profiles for s in p.schedules if s.start_schedule is not None
    ]
    return min(starts) if starts else None


@click.command(
    "schedule",
    epilog=(
        "Example:\n\n\b\n  ocpp-harness schedule profiles.json --duration 400 --evse 1 \\\n"
        "      --at 2024-01-01T12:00:00Z --transaction-start 2024-01-01T11:59:00Z"
    ),
)
@click.argument("profiles", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--duration",
    "duration_s",
    type=click.IntRange(min=0),
    required=True,
    help="Requested duration in seconds.",
)
@click.option("--unit", type=click.Choice(["A", "W"]), default="A", show_default=True)
@click.option(
    "--evse",
    "evse_id",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="EVSE (1.6: connector) to compose for; 0 = the whole station.",
)
@click.option(
    "--at",
    "at_text",
    metavar="ISO-TIME",
    help="Requested start. Default: --transaction-start, else the earliest "
    "startSchedule in the file.",
)
@click.option(
    "--ocpp",
    "version_text",
    type=click.Choice([v.value for v in OcppVersion]),
    default="1.6",
    show_default=True,
)
@click.option(
    "--transaction-start",
    "tx_start_text",
    metavar="ISO-TIME",
    help="A transaction runs on --evse (EVSE 1 if --evse is 0) since this time.",
)
@click.option(
    "--transaction-id",
    "tx_id",
    help="Its id (default: the transactionId of the first TxProfile in the file, else 1).",
)
@click.option(
    "--default-limit",
    "default_text",
    metavar="LIMIT",
    help="Limit reported where no profile limits (in --unit), e.g. the station's "
    "hardware maximum. Without it such a gap is an error in 1.6/2.0.1.",
)
def schedule_command(
    profiles: Path,
    duration_s: int,
    unit: str,
    evse_id: int,
    at_text: str | None,
    version_text: str,
    tx_start_text: str | None,
    tx_id: str | None,
    default_text: str | None,
) -> int:
    """Install SetChargingProfile payloads as a station would; print GetCompositeSchedule.

    PROFILES is a JSON list of SetChargingProfile request payloads exactly as a CSMS sends
    them (1.6: connectorId + csChargingProfiles; 2.x: evseId + chargingProfile), installed in
    order. The response payload of the chosen version goes to stdout; each rejected profile
    is reported on stderr with its rule and reason, and makes the exit code 2 (bad input).
    """
    version = OcppVersion(version_text)
    items = _load(profiles, version)
    tx_start = _instant(tx_start_text, "--transaction-start")
    start = _instant(at_text, "--at") or _default_start(items, tx_start)
    if start is None:
        raise click.UsageError("no --at given and no startSchedule in the file to start from")
    default_limit = None
    if default_text is not None:
        try:
            default_limit = Decimal(default_text)
        except InvalidOperation:
            raise click.BadParameter(
                f"expected a number, got {default_text!r}", param_hint="--default-limit"
            ) from None
    evses = sorted({e for e, _ in items if e > 0} | ({evse_id} if evse_id > 0 else set()) or {1})
    context = StationContext(evse_ids=tuple(evses))
    if tx_start is not None:
        tx_evse = evse_id if evse_id > 0 else evses[0]
        if tx_id is None:
            tx_id = next(
                (
                    p.transaction_id
                    for e, p in items
                    if p.purpose is Purpose.TX and e == tx_evse and p.transaction_id is not None
                ),
                "1",
            )
        context = context.with_transaction(tx_evse, Transaction(tx_id, tx_start))
    store = ProfileStore(version)
    failures = 0
    for index, (evse, profile) in enumerate(items):
        outcome = store.install(evse, profile, context)
        if isinstance(outcome, Rejected):
            failures += 1
            reason = f", reasonCode {outcome.reason_code}" if version is not OcppVersion.V16 else ""
            click.echo(
                f"profile [{index}] (id {profile.profile_id}) Rejected: {outcome.requirement} "
                f"[{outcome.rule.rule_id}{reason}]: {outcome.detail}",
                err=True,
            )
    schedule = store.composite(
        evse_id=evse_id,
        start=start,
        duration_s=duration_s,
        unit=RateUnit(unit),
        context=context,
        default_limit=default_limit,
    )
    try:
        payload = composite_response(schedule, version)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(payload, indent=2))
    return int(ExitCode.BAD_INPUT) if failures else int(ExitCode.OK)
