"""OCPP 2.1 adapter: everything of 2.0.1 plus the bidirectional (V2X) messages.

Charging profiles with ``operationMode`` / ``setpoint`` / ``dischargeLimit`` go through the
oracle like any other; the core turns them into a discharge request that the station passes
to a bidirectional vehicle ("the EV agreed to export P watts" — the ISO 15118-20 dialogue
is not simulated). When a bidirectional vehicle starts a transaction the station sends
NotifyEVChargingNeeds with ``v2xChargingParameters`` (requested transfer AC_BPT). The CSMS
may restrict the allowed transfer modes with NotifyAllowedEnergyTransfer; without AC_BPT in
the list the station does not discharge.
"""

from __future__ import annotations

from typing import Any

from harness.session import CallReceived
from harness.versions import OcppVersion
from simulators.station.adapters.common import StationHost, fixed, iso
from simulators.station.adapters.ocpp201 import Ocpp201Adapter
from simulators.station.events import StationEvent, TransactionEnded, TransactionStarted
from simulators.station.faults import StationFault

__all__ = ["Ocpp21Adapter"]

_BIDIRECTIONAL = frozenset({"AC_BPT", "AC_BPT_DER", "DC_BPT", "DC_ACDP_BPT"})


class Ocpp21Adapter(Ocpp201Adapter):
    """The 2.1 view of a :class:`~simulators.station.adapters.common.StationHost`."""

    version = OcppVersion.V21

    def __init__(self, host: StationHost) -> None:
        super().__init__(host)
        self._allowed: dict[str, frozenset[str]] = {}  # transaction id → allowed modes
        self._handlers["NotifyAllowedEnergyTransfer"] = self._allowed_transfer

    def on_event(self, event: StationEvent) -> None:
        super().on_event(event)
        if isinstance(event, TransactionStarted):
            self._charging_needs(event)
        elif isinstance(event, TransactionEnded):
            self._allowed.pop(event.transaction.transaction_id, None)

    def _charging_needs(self, event: TransactionStarted) -> None:
        """NotifyEVChargingNeeds for a bidirectional vehicle (Q01/Q02: V2X charging needs)."""
        evse_id = event.transaction.evse_id
        vehicle = self.host.vehicle(evse_id)
        if vehicle is None or not vehicle.params.bidirectional:
            return
        p = vehicle.params
        per_amp_w = p.voltage_v * p.phases
        capacity_wh = p.battery_capacity_wh
        soc = event.sample.soc_percent
        latest = vehicle.latest
        soc_now = soc if soc is not None else (latest.soc_percent if latest else 50.0)
        ac_mode = "AC_three_phase" if p.phases == 3 else "AC_single_phase"
        payload = {
            "evseId": evse_id,
            "timestamp": iso(event.at),
            "chargingNeeds": {
                "requestedEnergyTransfer": "AC_BPT",
                "availableEnergyTransfer": [ac_mode, "AC_BPT"],
                "controlMode": "ScheduledControl",
                "acChargingParameters": {
                    "energyAmount": round(capacity_wh * (100 - soc_now) / 100),
                    "evMinCurrent": p.min_current_a,
                    "evMaxCurrent": p.max_current_a,
                    "evMaxVoltage": p.voltage_v,
                },
                "v2xChargingParameters": {
                    "minChargePower": round(p.min_current_a * per_amp_w),
                    "maxChargePower": round(p.max_current_a * per_amp_w),
                    "minDischargePower": 0,
                    "maxDischargePower": round(p.max_discharge_power_w),
                    "minChargeCurrent": p.min_current_a,
                    "maxChargeCurrent": p.max_current_a,
                    "minDischargeCurrent": 0,
                    "maxDischargeCurrent": round(p.max_discharge_power_w / per_amp_w, 1),
                    "evMinV2XEnergyRequest": -round(
                        capacity_wh * max(0.0, soc_now - p.min_soc_percent) / 100
                    ),
                    "evMaxV2XEnergyRequest": round(capacity_wh * (100 - soc_now) / 100),
                },
            },
        }
        self.host.enqueue("NotifyEVChargingNeeds", fixed(payload))

    async def _allowed_transfer(self, call: CallReceived) -> dict[str, Any]:
        p = call.payload
        core = self.host.core
        running = {
            tx.transaction_id
            for tx in (core.transaction(e) for e in core.evse_ids)
            if tx is not None
        }
        if p["transactionId"] not in running:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "TxNotFound"}}
        self._allowed[p["transactionId"]] = frozenset(p["allowedEnergyTransfer"])
        self.host.poke()
        return {"status": "Accepted"}

    def discharge_allowed(self, evse_id: int) -> bool:
        """True unless the CSMS's NotifyAllowedEnergyTransfer left out every BPT mode."""
        tx = self.host.core.transaction(evse_id)
        if tx is None:
            return False
        allowed = self._allowed.get(tx.transaction_id)
        if self.host.core.config.has(StationFault.IGNORES_ALLOWED_ENERGY_TRANSFER):
            return True  # the defect: the CSMS's list is acknowledged, never enforced
        return allowed is None or bool(allowed & _BIDIRECTIONAL)
