"""``ocpp-harness schedule``: install SetChargingProfile payloads, print the composite."""

from __future__ import annotations

import json
import math
import re
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
    Purpose,
    RateUnit,
    StationContext,
    Transaction,
)
from harness.smartcharging.payloads import PayloadError, parse_set_charging_profile
from harness.smartcharging.responses import composite_response
from harness.smartcharging.rules import Rejected
from harness.smartcharging.store import ProfileStore
from harness.versions import OcppVersion

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


_TRANSACTION = re.compile(r"^(\d+)=([^@]+)@(.+)$")


def _transactions(texts: tuple[str, ...]) -> list[tuple[int, Transaction]]:
    """``EVSE=ID@START`` values of ``--transaction``, checked."""
    out: list[tuple[int, Transaction]] = []
    for text in texts:
        match = _TRANSACTION.match(text)
        if match is None:
            raise click.BadParameter(
                f"expected EVSE=ID@START (e.g. 1=tx-7@2024-01-01T12:00:00Z), got {text!r}",
                param_hint="--transaction",
            )
        evse = int(match.group(1))
        if evse < 1:
            raise click.BadParameter(
                f"expected an EVSE ≥ 1 (a transaction runs on an EVSE), got {text!r}",
                param_hint="--transaction",
            )
        if any(e == evse for e, _ in out):
            raise click.BadParameter(
                f"EVSE {evse} has two transactions ({text!r})", param_hint="--transaction"
            )
        start = _instant(match.group(3), "--transaction")
        assert start is not None
        out.append((evse, Transaction(match.group(2), start)))
    return out


def _number(text: str | None, option: str) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise click.BadParameter(f"expected a number, got {text!r}", param_hint=option) from None
    if not value.is_finite() or value < 0:
        raise click.BadParameter(f"expected a number ≥ 0, got {text!r}", param_hint=option)
    return value


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
        "      --at 2024-01-01T12:00:00Z --transaction-start 2024-01-01T11:59:00Z\n\n"
        "Several EVSEs and transactions, the station total:\n\n\b\n"
        "  ocpp-harness schedule profiles.json --duration 3600 --evse 0 --evses 2 \\\n"
        "      --transaction 1=tx-a@2024-01-01T11:00:00Z \\\n"
        "      --transaction 2=tx-b@2024-01-01T11:30:00Z \\\n"
        "      --default-limit 64 --evse-default-limit 32 --voltage 230"
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
@click.option(
    "--transaction",
    "tx_texts",
    metavar="EVSE=ID@START",
    multiple=True,
    help="A transaction ID runs on EVSE since START (ISO time); repeat for several EVSEs.",
)
@click.option(
    "--evses",
    "evse_count",
    type=click.IntRange(min=1),
    help="The station has EVSEs 1..N (default: the EVSEs the profiles, transactions and "
    "--evse name).",
)
@click.option(
    "--evse-default-limit",
    "evse_default_text",
    metavar="LIMIT",
    help="What an EVSE where no profile limits counts in a station total (--evse 0), in "
    "--unit: its hardware maximum. Without it such an EVSE makes the total unlimited.",
)
@click.option(
    "--voltage",
    "voltage_text",
    metavar="VOLTS",
    default="230",
    show_default=True,
    help="Supply voltage per phase for A↔W conversion.",
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
    tx_texts: tuple[str, ...],
    evse_count: int | None,
    evse_default_text: str | None,
    voltage_text: str,
) -> int:
    """Install SetChargingProfile payloads as a station would; print GetCompositeSchedule.

    PROFILES is a JSON list of SetChargingProfile request payloads exactly as a CSMS sends
    them (1.6: connectorId + csChargingProfiles; 2.x: evseId + chargingProfile), installed in
    order. The response payload of the chosen version goes to stdout; each rejected profile
    is reported on stderr with its rule and reason, and makes the exit code 2 (bad input).
    """
    version = OcppVersion(version_text)
    running = _transactions(tx_texts)
    default_limit = _number(default_text, "--default-limit")
    evse_default = _number(evse_default_text, "--evse-default-limit")
    voltage = _number(voltage_text, "--voltage")
    if voltage is None or voltage == 0:
        raise click.BadParameter(
            f"expected a voltage > 0, got {voltage_text!r}", param_hint="--voltage"
        )
    items = _load(profiles, version)
    tx_start = _instant(tx_start_text, "--transaction-start")
    if tx_start is not None and running:
        raise click.UsageError("give --transaction or --transaction-start, not both")
    first_tx = min((t.start for _, t in running), default=None)
    start = _instant(at_text, "--at") or _default_start(items, tx_start or first_tx)
    if start is None:
        raise click.UsageError("no --at given and no startSchedule in the file to start from")
    named = {e for e, _ in items if e > 0} | {e for e, _ in running}
    named |= {evse_id} if evse_id > 0 else set()
    if evse_count is not None:
        beyond = sorted(e for e in named if e > evse_count)
        if beyond:
            raise click.BadParameter(
                f"EVSE {beyond[0]} is named but the station has EVSEs 1..{evse_count}",
                param_hint="--evses",
            )
        named = set(range(1, evse_count + 1))
    evses = sorted(named or {1})
    context = StationContext(evse_ids=tuple(evses), voltage_v=voltage)
    for evse, tx in running:
        context = context.with_transaction(evse, tx)
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
        evse_default_limit=evse_default,
    )
    try:
        payload = composite_response(schedule, version)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(payload, indent=2))
    return int(ExitCode.BAD_INPUT) if failures else int(ExitCode.OK)
