"""OCPP 2.0.1 adapter of the simulated station (blocks B, C, E, F, G, J, K of the spec).

CSMS → station: RequestStart/StopTransaction, SetChargingProfile, ClearChargingProfile,
GetCompositeSchedule, GetChargingProfiles (answered with ReportChargingProfiles),
Get/SetVariables (:mod:`~simulators.station.adapters.variables`), TriggerMessage,
ChangeAvailability, Reset (a reboot: the profiles other than TxProfiles persist in the
station's memory); anything else gets CALLERROR NotImplemented. Without smart charging the
smart-charging requests get CALLERROR NotSupported. Station → CSMS:
BootNotification, Heartbeat, StatusNotification (when the connector status changes),
Authorize, TransactionEvent Started/Updated/Ended (meter values inside) and MeterValues for
clock-aligned or triggered samples outside a transaction.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from harness.connection import CallErrorReply, Handler
from harness.session import CallReceived, ResultReceived
from harness.versions import OcppVersion
from simulators.station.adapters.common import (
    Measurand,
    StationHost,
    availability,
    busy_accepted,
    fixed,
    iso,
    sampled_values,
)
from simulators.station.adapters.iso15118 import charging_needs, charging_schedule, speaks_iso15118
from simulators.station.adapters.smart import (
    clear_profiles,
    composite,
    install_profile,
    parse_profile,
)
from simulators.station.adapters.variables import device_model
from simulators.station.events import (
    LimitApplied,
    MeterSampleDue,
    StartRefused,
    StationEvent,
    StationTransaction,
    StatusChanged,
    StopReason,
    TransactionEnded,
    TransactionStarted,
)
from simulators.station.faults import StationFault
from simulators.station.metering import MeterSample, SampleReason
from simulators.station.smartcharging import Accepted, PayloadError, Rejected
from simulators.station.states import CHARGING_STATE_2X, ENERGY_STATES, status_2x
from simulators.vehicle import VehicleParams

__all__ = ["Ocpp201Adapter"]

_PERSISTENT = frozenset({"ChargingStationMaxProfile", "TxDefaultProfile"})
"""The purposes whose profiles a station keeps over a reboot (K01)."""

_STOP_TRIGGER = {
    StopReason.REMOTE: "RemoteStop",
    StopReason.LOCAL: "StopAuthorized",
    StopReason.EV_DISCONNECTED: "EVCommunicationLost",
    StopReason.DE_AUTHORIZED: "Deauthorized",
}


class Ocpp201Adapter:
    """The 2.0.1 view of a :class:`~simulators.station.adapters.common.StationHost`."""

    version = OcppVersion.V201

    def __init__(self, host: StationHost) -> None:
        self.host = host
        self._seq: dict[str, itertools.count[int]] = {}
        self._remote_ids: dict[int, int] = {}  # EVSE → remoteStartId of its pending start
        self._tx_remote_ids: dict[str, int] = {}
        self._connector_status: dict[int, str] = {}
        self._raw_profiles: dict[tuple[int, int], dict[str, Any]] = {}
        self._schedule_ids = itertools.count(1)  # NotifyEVChargingSchedule ids (ISO 15118)
        self._variables = device_model(host)
        self._handlers: dict[str, Handler] = {
            "RequestStartTransaction": self._request_start,
            "RequestStopTransaction": self._request_stop,
            "SetChargingProfile": self._set_profile,
            "ClearChargingProfile": self._clear_profile,
            "GetCompositeSchedule": self._composite,
            "GetChargingProfiles": self._get_profiles,
            "GetVariables": self._get_variables,
            "SetVariables": self._set_variables,
            "TriggerMessage": self._trigger,
            "ChangeAvailability": self._change_availability,
            "Reset": self._reset,
        }
        self._reboot_when_idle = False
        self._restore()

    @property
    def handlers(self) -> Mapping[str, Handler]:
        return self._handlers

    # ------------------------------------------------------------------ station → CSMS
    def boot_request(self) -> dict[str, Any]:
        c = self.host.core.config
        return {
            "reason": self.host.memory.boot_reason or "PowerUp",
            "chargingStation": {
                "vendorName": c.vendor,
                "model": c.model,
                "serialNumber": c.serial_number,
                "firmwareVersion": c.firmware_version,
            },
        }

    def after_boot(self) -> None:
        core = self.host.core
        self.host.memory.boot_reason = None
        self._connector_status.clear()
        for evse_id in core.evse_ids:
            self._status(evse_id, status_2x(core.state(evse_id), plugged=core.plugged(evse_id)))

    def _status(self, evse_id: int, status: str, *, force: bool = True) -> None:
        if not force and self._connector_status.get(evse_id) == status:
            return
        self._connector_status[evse_id] = status
        payload = {
            "timestamp": iso(self.host.now()),
            "connectorStatus": status,
            "evseId": evse_id,
            "connectorId": 1,
        }
        self.host.enqueue("StatusNotification", fixed(payload))

    def on_event(self, event: StationEvent) -> None:
        if isinstance(event, StatusChanged):
            self._status(event.evse_id, status_2x(event.state, plugged=event.plugged), force=False)
            tx = self.host.core.transaction(event.evse_id)
            if tx is not None and event.state in ENERGY_STATES and event.previous in ENERGY_STATES:
                self._transaction_event(
                    "Updated", "ChargingStateChanged", tx, charging_state=event.state
                )
        elif isinstance(event, TransactionStarted):
            self._started(event)
            self._iso15118_needs(event)
        elif isinstance(event, LimitApplied):
            self._iso15118_schedule(event)
        elif isinstance(event, TransactionEnded):
            self._ended(event)
            core = self.host.core
            if self._reboot_when_idle and all(core.transaction(e) is None for e in core.evse_ids):
                self._reboot_when_idle = False  # B12: the Scheduled reset, now idle
                self.host.reboot()
        elif isinstance(event, MeterSampleDue):
            self._sample(event.sample)

    def _iso15118_needs(self, event: TransactionStarted) -> None:
        """K15: an ISO 15118 vehicle's charging needs (:mod:`.iso15118`); no energy flows
        until a schedule is agreed: the CSMS's TxProfile, or the station's own limits when
        the CSMS rejects the needs or sends no profile within
        ``iso15118_schedule_wait_s``."""
        evse_id = event.transaction.evse_id
        vehicle = self.host.vehicle(evse_id)
        if vehicle is None or not speaks_iso15118(vehicle.params):
            return
        core = self.host.core
        if self.host.offline:
            # K15 offline: no CSMS to ask; the schedule agreed with the vehicle comes from the
            # station's own profiles (its TxDefaultProfile), reported once back
            # (NotifyEVChargingSchedule, queued with the first limit applied).
            return
        forever = core.config.has(StationFault.NO_CHARGING_WITHOUT_SCHEDULE)
        wait = timedelta(seconds=core.config.iso15118_schedule_wait_s)
        core.await_schedule(evse_id, until=None if forever else event.at + wait, now=event.at)
        soc = event.sample.soc_percent
        self._send_needs(evse_id, vehicle.params, at=event.at, soc_percent=soc)

    def _send_needs(
        self, evse_id: int, params: VehicleParams, *, at: datetime, soc_percent: float | None
    ) -> None:
        payload = charging_needs(evse_id=evse_id, params=params, at=at, soc_percent=soc_percent)

        def answered(result: ResultReceived) -> None:
            # K15: Rejected — the CSMS has no schedule to offer: go on with our own limits
            # (a station under ``no_charging_without_schedule`` keeps waiting).
            if result.payload.get("status") != "Rejected":
                return
            if not self.host.core.config.has(StationFault.NO_CHARGING_WITHOUT_SCHEDULE):
                self.host.core.schedule_agreed(evse_id, now=self.host.now())
                self.host.poke()

        self.host.enqueue("NotifyEVChargingNeeds", fixed(payload), on_result=answered)

    def ev_renegotiation(self, evse_id: int) -> bool:
        """K17: the ISO 15118 vehicle on ``evse_id`` asks to renegotiate its schedule: its
        new charging needs go to the CSMS (NotifyEVChargingNeeds); it charges on the agreed
        schedule meanwhile. False when no ISO 15118 vehicle charges there."""
        vehicle = self.host.vehicle(evse_id)
        tx = self.host.core.transaction(evse_id)
        if vehicle is None or tx is None or not speaks_iso15118(vehicle.params):
            return False
        if self.host.core.config.has(StationFault.IGNORES_EV_RENEGOTIATION):
            return True  # the defect: the request goes nowhere
        soc = None if vehicle.latest is None else vehicle.latest.soc_percent
        self._send_needs(evse_id, vehicle.params, at=self.host.now(), soc_percent=soc)
        return True

    def _iso15118_schedule(self, event: LimitApplied) -> None:
        """K17: the schedule (re)negotiated with an ISO 15118 vehicle (:mod:`.iso15118`)."""
        vehicle = self.host.vehicle(event.evse_id)
        if self.host.core.transaction(event.evse_id) is None or vehicle is None:
            return
        if self.host.core.awaiting_schedule(event.evse_id):
            return  # nothing agreed yet (ISO 15118-2 EVSEProcessing Ongoing)
        if speaks_iso15118(vehicle.params):
            payload = charging_schedule(event, schedule_id=next(self._schedule_ids))
            self.host.enqueue("NotifyEVChargingSchedule", fixed(payload))

    def _started(self, event: TransactionStarted) -> None:
        tx = event.transaction
        remote_id = self._remote_ids.pop(tx.evse_id, None)
        if remote_id is not None:
            self._tx_remote_ids[tx.transaction_id] = remote_id
        info: dict[str, Any] = {}
        if remote_id is not None:
            info["remoteStartId"] = remote_id
        self._transaction_event(
            "Started",
            "RemoteStart" if tx.remote else "Authorized",
            tx,
            sample=event.sample,
            extra_info=info,
            id_token=tx.id_token,
        )

    def _ended(self, event: TransactionEnded) -> None:
        self._transaction_event(
            "Ended",
            _STOP_TRIGGER.get(event.reason, "AbnormalCondition"),
            event.transaction,
            sample=event.sample,
            extra_info={"stoppedReason": str(event.reason)},
        )

    def _sample(self, sample: MeterSample) -> None:
        tx = self.host.core.transaction(sample.evse_id)
        periodic = sample.reason is SampleReason.PERIODIC
        if tx is not None and (periodic or sample.reason is SampleReason.CLOCK):
            trigger = "MeterValuePeriodic" if periodic else "MeterValueClock"
            self._transaction_event("Updated", trigger, tx, sample=sample)
        else:
            payload = {"evseId": sample.evse_id, "meterValue": [self.meter_value(sample)]}
            self.host.enqueue("MeterValues", fixed(payload))

    def _transaction_event(
        self,
        event_type: str,
        trigger: str,
        tx: StationTransaction,
        *,
        sample: MeterSample | None = None,
        charging_state: Any = None,
        extra_info: dict[str, Any] | None = None,
        id_token: str | None = None,
    ) -> None:
        seq = self._seq.setdefault(tx.transaction_id, itertools.count())
        state = charging_state or self.host.core.state(tx.evse_id)
        info = {
            "transactionId": tx.transaction_id,
            "chargingState": CHARGING_STATE_2X[state],
            **(extra_info or {}),
        }
        payload: dict[str, Any] = {
            "eventType": event_type,
            "timestamp": iso(sample.timestamp if sample is not None else self.host.now()),
            "triggerReason": trigger,
            "seqNo": next(seq),
            "transactionInfo": info,
        }
        if event_type == "Started":
            payload["evse"] = {"id": tx.evse_id, "connectorId": 1}
        if id_token is not None:
            kind = "Central" if tx.remote else "ISO14443"
            payload["idToken"] = {"idToken": id_token, "type": kind}
        if sample is not None:
            payload["meterValue"] = [self.meter_value(sample)]
        if event_type == "Ended":
            self._seq.pop(tx.transaction_id, None)
        if self.host.offline:  # E04: queued while offline, sent once back, offline true
            config = self.host.core.config
            if config.has(StationFault.DROPS_OFFLINE_EVENTS):
                return  # the defect: what happened offline is never reported
            if not config.has(StationFault.NO_OFFLINE_FLAG):
                payload["offline"] = True
        self.host.enqueue("TransactionEvent", fixed(payload))

    def meter_value(self, sample: MeterSample) -> dict[str, Any]:
        """A 2.x MeterValueType of ``sample`` with the chosen measurands."""
        values = []
        for measurand, phase, value, unit in sampled_values(sample, self.host.settings.measurands):
            item: dict[str, Any] = {
                "value": value,
                "context": str(sample.reason),
                "measurand": str(measurand),
                "location": "EV" if measurand is Measurand.SOC else "Outlet",
                "unitOfMeasure": {"unit": unit},
            }
            if phase is not None:
                item["phase"] = phase
            values.append(item)
        return {"timestamp": iso(sample.timestamp), "sampledValue": values}

    async def authorize(self, id_token: str) -> bool:
        result = await self.host.call(
            "Authorize", {"idToken": {"idToken": id_token, "type": "ISO14443"}}
        )
        return result is not None and result.payload["idTokenInfo"]["status"] == "Accepted"

    # ------------------------------------------------------------------ CSMS → station
    async def _request_start(self, call: CallReceived) -> dict[str, Any]:
        p, host = call.payload, self.host
        core = host.core
        evse_id = p.get("evseId")
        if evse_id is None:
            free = [e for e in core.evse_ids if core.transaction(e) is None]
            evse_id = free[0] if free else None
        if evse_id is None or evse_id not in core.evse_ids:
            return _status("Rejected", "UnknownEvse")
        profile = None
        # OCA TC_K_38_CS: a station without smart charging starts the transaction and
        # ignores the chargingProfile of the request.
        if "chargingProfile" in p and host.settings.smart_charging_enabled:
            parsed = parse_profile(self.version, evse_id, p["chargingProfile"])
            if isinstance(parsed, PayloadError):
                return _status("Rejected", "InvalidProfile")
            profile = parsed
        self._remote_ids[evse_id] = int(p["remoteStartId"])
        token = p["idToken"]["idToken"]
        result = core.start_transaction(
            evse_id, id_token=token, now=host.now(), remote=True, charging_profile=profile
        )
        host.poke()
        if isinstance(result, StartRefused):
            self._remote_ids.pop(evse_id, None)
            if busy_accepted(host, result):
                return {"status": "Accepted"}
            return _status("Rejected", str(result.reason))
        if profile is not None:
            raw = dict(p["chargingProfile"])
            tx = core.transaction(evse_id)
            if tx is not None:
                raw["transactionId"] = tx.transaction_id
            self._raw_profiles[(evse_id, profile.profile_id)] = raw
        answer: dict[str, Any] = {"status": "Accepted"}
        if isinstance(result, StationTransaction):
            answer["transactionId"] = result.transaction_id
        return answer

    async def _request_stop(self, call: CallReceived) -> dict[str, Any]:
        wanted = call.payload["transactionId"]
        core = self.host.core
        for evse_id in core.evse_ids:
            tx = core.transaction(evse_id)
            if tx is not None and tx.transaction_id == wanted:
                core.stop_transaction(evse_id, now=self.host.now(), reason=StopReason.REMOTE)
                self.host.poke()
                return {"status": "Accepted"}
        return {"status": "Rejected"}

    def _smart_charging_supported(self, call: CallReceived) -> None:
        """OCA TC_K_15_CS: a station without smart charging answers the smart-charging
        requests with CALLERROR NotSupported (OCPP-J: recognised, not supported)."""
        if not self.host.settings.smart_charging_enabled:
            raise CallErrorReply("NotSupported", f"{call.action}: no smart charging here")

    async def _set_profile(self, call: CallReceived) -> dict[str, Any]:
        self._smart_charging_supported(call)
        p = call.payload
        outcome = install_profile(self.host.core, self.version, p, now=self.host.now())
        self.host.poke()
        if isinstance(outcome, Accepted):
            raw = p["chargingProfile"]
            evse_id = int(p["evseId"])
            self._raw_profiles[(evse_id, int(raw["id"]))] = raw
            self._persist()
            core = self.host.core
            if raw.get("chargingProfilePurpose") == "TxProfile" and evse_id in core.evse_ids:
                # K15: the CSMS's schedule for an ISO 15118 vehicle waiting for one.
                core.schedule_agreed(evse_id, now=self.host.now())
                self.host.poke()
            return {"status": "Accepted"}
        if isinstance(outcome, Rejected):
            return _status("Rejected", outcome.reason_code, outcome.describe())
        return _status("Rejected", "InvalidValue", str(outcome))

    async def _clear_profile(self, call: CallReceived) -> dict[str, Any]:
        self._smart_charging_supported(call)
        p = call.payload
        criteria = p.get("chargingProfileCriteria") or {}
        cleared = clear_profiles(
            self.host.core,
            profile_id=p.get("chargingProfileId"),
            evse_id=criteria.get("evseId"),
            purpose=criteria.get("chargingProfilePurpose"),
            stack_level=criteria.get("stackLevel"),
            now=self.host.now(),
        )
        self.host.poke()
        self._persist()
        always = self.host.core.config.has(StationFault.CLEAR_ALWAYS_ACCEPTED)
        return {"status": "Accepted" if cleared or always else "Unknown"}

    async def _composite(self, call: CallReceived) -> dict[str, Any]:
        self._smart_charging_supported(call)
        p = call.payload
        return composite(
            self.host.core,
            self.version,
            evse_id=int(p["evseId"]),
            duration_s=int(p["duration"]),
            unit=p.get("chargingRateUnit"),
            now=self.host.now(),
        )

    async def _get_profiles(self, call: CallReceived) -> dict[str, Any]:
        self._smart_charging_supported(call)
        p = call.payload
        crit = p["chargingProfile"]
        ids = crit.get("chargingProfileId")
        sources = crit.get("chargingLimitSource")
        found: dict[int, list[dict[str, Any]]] = {}
        for item in self.host.core.installed_profiles:
            prof = item.profile
            raw = self._raw_profiles.get((item.evse_id, prof.profile_id))
            if (
                raw is None
                or ("evseId" in p and item.evse_id != p["evseId"])
                or (crit.get("chargingProfilePurpose") not in (None, str(prof.purpose)))
                or (crit.get("stackLevel") not in (None, prof.stack_level))
                or (ids is not None and prof.profile_id not in ids)
                or (sources is not None and "CSO" not in sources)
            ):
                continue
            found.setdefault(item.evse_id, []).append(raw)
        if not found:
            return {"status": "NoProfiles"}
        request_id = p["requestId"]
        groups = sorted(found.items())
        for n, (evse_id, raws) in enumerate(groups):
            report = {
                "requestId": request_id,
                "chargingLimitSource": "CSO",
                "evseId": evse_id,
                "chargingProfile": raws,
                "tbc": n < len(groups) - 1,
            }
            self.host.enqueue("ReportChargingProfiles", fixed(report))
        return {"status": "Accepted"}

    async def _get_variables(self, call: CallReceived) -> dict[str, Any]:
        results = []
        for item in call.payload["getVariableData"]:
            component, variable = item["component"], item["variable"]
            result: dict[str, Any] = {"component": component, "variable": variable}
            found = self._variables.get((component["name"], variable["name"]))
            if item.get("attributeType", "Actual") != "Actual":
                result["attributeStatus"] = "NotSupportedAttributeType"
            elif found is None:
                known = {c for c, _ in self._variables}
                unknown = "UnknownVariable" if component["name"] in known else "UnknownComponent"
                result["attributeStatus"] = unknown
            else:
                result["attributeStatus"] = "Accepted"
                result["attributeValue"] = found.read()
            results.append(result)
        return {"getVariableResult": results}

    async def _set_variables(self, call: CallReceived) -> dict[str, Any]:
        results = []
        for item in call.payload["setVariableData"]:
            component, variable = item["component"], item["variable"]
            result: dict[str, Any] = {"component": component, "variable": variable}
            found = self._variables.get((component["name"], variable["name"]))
            if item.get("attributeType", "Actual") != "Actual":
                result["attributeStatus"] = "NotSupportedAttributeType"
            elif found is None:
                known = {c for c, _ in self._variables}
                unknown = "UnknownVariable" if component["name"] in known else "UnknownComponent"
                result["attributeStatus"] = unknown
            elif found.write is None or not found.write(str(item["attributeValue"])):
                result["attributeStatus"] = "Rejected"
            else:
                result["attributeStatus"] = "Accepted"
            results.append(result)
        return {"setVariableResult": results}

    async def _trigger(self, call: CallReceived) -> dict[str, Any]:
        p, host = call.payload, self.host
        core = host.core
        evse = p.get("evse")
        evses = core.evse_ids if evse is None else (int(evse["id"]),)
        if any(e not in core.evse_ids for e in evses):
            return _status("Rejected", "UnknownEvse")
        wanted = p["requestedMessage"]
        if wanted == "BootNotification":
            host.enqueue("BootNotification", self.boot_request)
        elif wanted == "Heartbeat":
            host.enqueue("Heartbeat", dict)
        elif wanted == "StatusNotification":
            for e in evses:
                self._status(e, status_2x(core.state(e), plugged=core.plugged(e)))
        elif wanted == "MeterValues":
            for e in evses:
                sample = core.meter(e, reason=SampleReason.TRIGGER)
                payload = {"evseId": e, "meterValue": [self.meter_value(sample)]}
                host.enqueue("MeterValues", fixed(payload))
        elif wanted == "TransactionEvent":
            running = [(e, core.transaction(e)) for e in evses]
            for e, tx in running:
                if tx is not None:
                    sample = core.meter(e, reason=SampleReason.TRIGGER)
                    self._transaction_event("Updated", "Trigger", tx, sample=sample)
        else:
            return {"status": "NotImplemented"}
        return {"status": "Accepted"}

    async def _change_availability(self, call: CallReceived) -> dict[str, Any]:
        p, core = call.payload, self.host.core
        evse = p.get("evse")
        evses = core.evse_ids if evse is None or evse["id"] == 0 else (int(evse["id"]),)
        if any(e not in core.evse_ids for e in evses):
            return _status("Rejected", "UnknownEvse")
        available = p["operationalStatus"] == "Operative"
        now = self.host.now()
        results = {str(core.set_available(e, available=available, now=now)) for e in evses}
        self.host.poke()
        return {"status": availability(results)}

    # ------------------------------------------------------------------ reboot
    async def _reset(self, call: CallReceived) -> dict[str, Any]:
        """B11/B12: Reset of the whole station (an EVSE reset is Rejected: not supported).
        Immediate: the transactions end (Reboot) and it reboots; OnIdle with a transaction
        running: Scheduled, it reboots when the last one ends."""
        p = call.payload
        if p.get("evseId") is not None:
            return _status("Rejected", "UnsupportedRequest", "no reset of a single EVSE")
        core = self.host.core
        busy = any(core.transaction(e) is not None for e in core.evse_ids)
        if busy and p["type"] == "OnIdle":
            self._reboot_when_idle = True
            return {"status": "Scheduled"}
        self.host.reboot()
        return {"status": "Accepted"}

    def _persist(self) -> None:
        """K01: the installed profiles other than TxProfiles (and external limits) persist
        over a reboot: write them to the station's memory — not under
        ``forgets_profiles_on_reset``, whose memory stays empty."""
        if self.host.core.config.has(StationFault.FORGETS_PROFILES_ON_RESET):
            return
        kept = {(i.evse_id, i.profile.profile_id) for i in self.host.core.installed_profiles}
        self.host.memory.profiles = {
            key: raw
            for key, raw in self._raw_profiles.items()
            if key in kept and raw.get("chargingProfilePurpose") in _PERSISTENT
        }

    def _restore(self) -> None:
        """The profiles the station's memory kept (see :meth:`_persist`), installed again
        at start."""
        now = self.host.now()
        for (evse_id, profile_id), raw in sorted(self.host.memory.profiles.items()):
            payload = {"evseId": evse_id, "chargingProfile": raw}
            if isinstance(
                install_profile(self.host.core, self.version, payload, now=now), Accepted
            ):
                self._raw_profiles[(evse_id, profile_id)] = raw

    def discharge_allowed(self, evse_id: int) -> bool:
        """2.0.1 has no discharging."""
        return False

    def external_limit_changed(self, evse_id: int, schedule: dict[str, Any] | None) -> None:
        """K12: an external limit is reported with NotifyChargingLimit (with its schedule when
        SmartChargingCtrlr.NotifyChargingLimitWithSchedules is true); K13: its end with
        ClearedChargingLimit."""
        if schedule is None:
            cleared = {"chargingLimitSource": "EMS", "evseId": evse_id}
            self.host.enqueue("ClearedChargingLimit", fixed(cleared))
            return
        payload: dict[str, Any] = {
            "chargingLimit": {"chargingLimitSource": "EMS"},
            "evseId": evse_id,
        }
        if self.host.settings.notify_with_schedules:
            payload["chargingSchedule"] = [schedule]
        self.host.enqueue("NotifyChargingLimit", fixed(payload))


def _status(status: str, reason_code: str, detail: str = "") -> dict[str, Any]:
    info: dict[str, Any] = {"reasonCode": reason_code[:20]}
    if detail:
        info["additionalInfo"] = detail[:512]
    return {"status": status, "statusInfo": info}
