"""The mirror: the profiles the harness installed and the DUT accepted, as the oracle sees them.

The harness never asks the DUT what it holds; it mirrors what it sent. A SetChargingProfile
answered ``Accepted`` is installed into an oracle :class:`ProfileStore` (without the
oracle's own validation: the DUT decided), a ClearChargingProfile answered ``Accepted``
clears the same criteria. Limits and composites are then computed with the transactions the
harness observed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from harness.runner.observations import ObservationLog, ObservedTransaction
from harness.smartcharging import (
    ClearCriteria,
    CompositeSchedule,
    InstantLimit,
    ProfileStore,
    Purpose,
    RateUnit,
    StationContext,
    Transaction,
    external_limit_request,
    parse_clear_charging_profile,
    parse_set_charging_profile,
)
from harness.smartcharging.composite import InstalledProfile
from harness.versions import OcppVersion

__all__ = ["MirrorStore"]


class MirrorStore:
    """What the DUT should hold, according to what it accepted."""

    def __init__(
        self,
        version: str,
        observations: ObservationLog,
        *,
        evse_ids: tuple[int, ...] = (1,),
        supply_phases: int = 3,
    ) -> None:
        self.version = OcppVersion(version)
        self._observations = observations
        self._evse_ids = evse_ids
        self._supply_phases = supply_phases
        self._store = ProfileStore(self.version)

    def observe(self, observations: ObservationLog) -> None:
        """Take the transactions from ``observations`` from now on (the DUT reconnected
        during a case: its new connection's log); the profiles stay."""
        self._observations = observations

    def reset(self) -> None:
        """Forget every profile (the reset between cases cleared them on the DUT)."""
        self._store = ProfileStore(self.version)

    @property
    def installed(self) -> tuple[InstalledProfile, ...]:
        """The mirrored profiles."""
        return self._store.installed

    def context(self) -> StationContext:
        """The station state for the oracle: EVSEs and the observed transactions."""
        evses = tuple(sorted({*self._evse_ids, *self._observations.transactions}))
        transactions = tuple(
            (evse, Transaction(tx.transaction_id, tx.start))
            for evse, tx in sorted(self._observations.transactions.items())
        )
        return StationContext(
            evse_ids=evses, transactions=transactions, supply_phases=self._supply_phases
        )

    def accepted_set(self, payload: Mapping[str, Any]) -> None:
        """The DUT accepted this SetChargingProfile request: mirror it.

        Raises :class:`~harness.smartcharging.PayloadError` if the payload is not a valid
        request (the harness sent it, so that is the scenario's or the harness's mistake).
        """
        evse_id, profile = parse_set_charging_profile(dict(payload), version=self.version)
        # Install without the oracle's validation: the DUT has decided to accept it.
        self._store.install_accepted(evse_id, profile)

    def accepted_clear(self, payload: Mapping[str, Any]) -> None:
        """The DUT accepted this ClearChargingProfile request: clear the same profiles.

        Raises :class:`~harness.smartcharging.PayloadError` as :meth:`accepted_set` does.
        """
        self._store.clear(parse_clear_charging_profile(dict(payload), version=self.version))

    def external_limit(self, *, evse_id: int, limit_a: float | None, at: datetime) -> None:
        """An external system limited ``evse_id`` to ``limit_a`` from ``at`` (``None``: lifted
        it): the station holds it as a ChargingStationExternalConstraints profile, which
        caps the composite schedule (K12)."""
        self._store.clear(ClearCriteria(evse_id=evse_id, purpose=Purpose.EXTERNAL_CONSTRAINTS))
        if limit_a is None:
            return
        payload = external_limit_request(evse_id, limit_a=limit_a, start=at)
        _, profile = parse_set_charging_profile(payload, version=OcppVersion.V201)
        self._store.install_accepted(evse_id, profile)

    def transaction_ended(self, transaction: ObservedTransaction) -> None:
        """TxProfiles live as long as their transaction (1.6 §3.13.1, K01.FR.26 in 2.x);
        one given with the start request (no transactionId) belongs to the EVSE's transaction."""
        self._store.end_transaction(transaction.transaction_id, evse_id=transaction.evse)

    def accepted_start(self, payload: Mapping[str, Any]) -> None:
        """The DUT accepted RemoteStartTransaction / RequestStartTransaction: a
        ``chargingProfile`` in it is the new transaction's TxProfile (1.6 §5.11, 2.x F01.FR.08)."""
        profile = payload.get("chargingProfile")
        if not isinstance(profile, Mapping):
            return
        if self.version is OcppVersion.V16:
            evse = payload.get("connectorId", 1)
            self.accepted_set({"connectorId": evse, "csChargingProfiles": profile})
        else:
            evse = payload.get("evseId", 1)
            self.accepted_set({"evseId": evse, "chargingProfile": profile})

    def limit_at(self, *, evse_id: int, at: datetime) -> InstantLimit:
        """The oracle's limit on ``evse_id`` at ``at``."""
        return self._store.limit_at(evse_id=evse_id, at=at, context=self.context())

    def composite(
        self,
        *,
        evse_id: int,
        start: datetime,
        duration_s: int,
        unit: str,
        default_limit: Decimal | None,
        tx_default_resumes: bool = False,
    ) -> CompositeSchedule:
        """The oracle's composite schedule for the mirrored profiles (``tx_default_resumes``:
        the reading the specification does not take, for a verdict to name it)."""
        return self._store.composite(
            evse_id=evse_id,
            start=start,
            duration_s=duration_s,
            unit=RateUnit(unit),
            context=self.context(),
            default_limit=default_limit,
            tx_default_resumes=tx_default_resumes,
        )
