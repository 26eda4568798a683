"""Outside vectors: the composite-schedule unit tests of EVerest libocpp (1.6 and 2.0.1),
ported as data (``vectors/libocpp``: source, commit and licence in ``composite.json``).

Each vector is answered by the oracle and by the simulated station's own engine; both must
agree, and the answer must be libocpp's — or, where the harness decides otherwise, the
``decided`` answer, whose clause is in ``vectors/libocpp/README.md``.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from harness import smartcharging as oracle
from harness.clock import utc
from harness.versions import OcppVersion
from simulators.station import smartcharging as engine
from tests.simulators.station.helpers import as_oracle

HERE = Path(__file__).parent / "vectors" / "libocpp"
DOC = json.loads((HERE / "composite.json").read_text(encoding="utf-8"))
VECTORS: list[dict[str, Any]] = DOC["vectors"]
Row = tuple[int, Decimal, int]


def _when(text: str | None) -> datetime | None:
    return None if text is None else utc(text)


def load_profiles(name: str, version: OcppVersion) -> list[engine.ChargingProfile]:
    """The profiles of one libocpp JSON file (one profile or a list), in the engine's model."""
    raw = json.loads((HERE / "profiles" / name).read_text(encoding="utf-8"))
    out = []
    for item in raw if isinstance(raw, list) else [raw]:
        schedules = item["chargingSchedule"]
        if isinstance(schedules, dict):
            schedules = [schedules]
        built = tuple(
            engine.ChargingSchedule(
                unit=engine.RateUnit(s["chargingRateUnit"]),
                periods=tuple(
                    engine.SchedulePeriod(
                        start_period_s=int(p["startPeriod"]),
                        limit=Decimal(str(p["limit"])),
                        number_phases=p.get("numberPhases"),
                    )
                    for p in s["chargingSchedulePeriod"]
                ),
                start_schedule=_when(s.get("startSchedule")),
                duration_s=s.get("duration"),
            )
            for s in schedules
        )
        kind = item["chargingProfileKind"]
        recurrency = item.get("recurrencyKind") if kind == "Recurring" else None
        out.append(
            engine.ChargingProfile(
                profile_id=int(item.get("id", item.get("chargingProfileId", 0))),
                stack_level=int(item["stackLevel"]),
                purpose=engine.Purpose.from_wire(item["chargingProfilePurpose"]),
                kind=engine.Kind(kind),
                schedules=built,
                recurrency=None if recurrency is None else engine.Recurrency(recurrency),
                valid_from=_when(item.get("validFrom")),
                valid_to=_when(item.get("validTo")),
            )
        )
    return out


def answers(vector: dict[str, Any]) -> tuple[list[Row], list[Row]]:
    """(the oracle's, the engine's) composite as (startPeriod, limit, phases) rows."""
    version = OcppVersion(vector["ocpp"])
    evse_ids = tuple(range(1, vector["evses"] + 1))
    txs = [(t["evse"], f"tx{t['evse']}", utc(t["start"])) for t in vector["transactions"]]
    context = oracle.StationContext(
        evse_ids=evse_ids,
        transactions=tuple((e, oracle.Transaction(tx, s)) for e, tx, s in txs),
    )
    station = engine.Station(evse_ids=evse_ids, transactions=tuple(txs))
    facts = engine.Facts(evse_ids=evse_ids, running=tuple((e, tx) for e, tx, _ in txs))
    store, profiles = oracle.ProfileStore(version), engine.Profiles(version)
    owner: dict[int, int] = {}
    for item in vector["profiles"]:
        for profile in load_profiles(item["file"], version):
            # libocpp's mock database holds the same file (the same id) on several EVSEs; a
            # CSMS must give each its own id (K01.FR.05: the same id replaces).
            if owner.setdefault(profile.profile_id, item["evse"]) != item["evse"]:
                new_id = profile.profile_id + 1000 * item["evse"]
                profile = engine.ChargingProfile(**{**_fields(profile), "profile_id": new_id})
            # A TxProfile in these files names no transaction: it is for the running one.
            running = dict((e, tx) for e, tx, _ in txs).get(item["evse"])
            if profile.purpose == engine.Purpose.TX and running is not None:
                profile = engine.ChargingProfile(**{**_fields(profile), "transaction_id": running})
            store.install(item["evse"], as_oracle(profile), context)
            profiles.install(item["evse"], profile, facts)
    start, end = utc(vector["start"]), utc(vector["end"])
    duration = int((end - start).total_seconds())
    unit = vector["unit"]
    default = Decimal(vector["default_limit"])
    ours = store.composite(
        evse_id=vector["evse"], start=start, duration_s=duration, unit=oracle.RateUnit(unit),
        context=context, default_limit=default, evse_default_limit=default,
    )  # fmt: skip
    theirs = profiles.composite(
        station, evse_id=vector["evse"], start=start, duration_s=duration,
        unit=engine.RateUnit(unit), default=default, evse_default=default,
    )  # fmt: skip
    return (
        [(p.start_period_s, p.limit or Decimal(0), p.number_phases or 3) for p in ours.periods],
        [(s.offset_s, s.limit or Decimal(0), s.number_phases or 3) for s in theirs.steps],
    )


def _fields(profile: engine.ChargingProfile) -> dict[str, Any]:
    return {name: getattr(profile, name) for name in profile.__dataclass_fields__}


def matches(got: list[Row], expected: list[dict[str, Any]]) -> bool:
    """Same periods: startPeriod, limit within the 0.1 rounding step, phases when given."""
    if len(got) != len(expected):
        return False
    return all(
        start == row["start"]
        and abs(limit - Decimal(str(row["limit"]))) < Decimal("0.1")
        and ("phases" not in row or phases == row["phases"])
        for (start, limit, phases), row in zip(got, expected, strict=True)
    )


def test_the_port_is_whole() -> None:
    assert DOC["licence"] == "Apache-2.0"
    assert len(DOC["commit"]) == 40
    assert len(VECTORS) >= 40
    assert len({v["id"] for v in VECTORS}) == len(VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector(vector: dict[str, Any]) -> None:
    ours, engines = answers(vector)
    assert engines == ours, "the oracle and the station engine disagree"
    decided = vector.get("decided")
    wanted = vector["expected"] if decided is None else decided["expected"]
    assert matches(ours, wanted), f"got {ours}, expected {wanted}"
    if decided is not None:  # the disagreement is real: libocpp's answer is not ours
        assert not matches(ours, vector["expected"])
