"""OCPP 1.6J adapter of the simulated station (Core, Smart Charging, Remote Trigger profiles).

CSMS → station: RemoteStart/StopTransaction, SetChargingProfile, ClearChargingProfile,
GetCompositeSchedule, Get/ChangeConfiguration (writable: HeartbeatInterval, the sampled and
clock-aligned meter intervals and measurands, ConnectionTimeOut), TriggerMessage,
ChangeAvailability; any other action gets CALLERROR NotImplemented from the connection.
Station → CSMS: BootNotification, Heartbeat, StatusNotification, Authorize,
Start/StopTransaction and MeterValues built from the core's events.

The core numbers its transactions itself; 1.6 lets the CSMS assign the id in its answer to
StartTransaction, so the adapter renames the core's transaction then (TxProfiles name the
CSMS's id) and maps ids when a queued message is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from harness.connection import CallErrorReply, Handler
from harness.session import CallReceived, ErrorCode, ResultReceived
from harness.versions import OcppVersion
from simulators.station.adapters.common import (
    Measurand,
    StationHost,
    availability,
    busy_accepted,
    fixed,
    iso,
    parse_measurands,
    sampled_values,
)
from simulators.station.adapters.smart import (
    clear_profiles,
    composite,
    install_profile,
    parse_profile,
)
from simulators.station.events import (
    MeterSampleDue,
    StartRefused,
    StationEvent,
    StatusChanged,
    StopReason,
    TransactionEnded,
    TransactionStarted,
)
from simulators.station.faults import StationFault
from simulators.station.metering import MeterSample, SampleReason
from simulators.station.smartcharging import Accepted, PayloadError
from simulators.station.states import STATUS_16

__all__ = ["Ocpp16Adapter"]

_READ_ONLY = frozenset(
    {
        "ChargeProfileMaxStackLevel",
        "ChargingScheduleAllowedChargingRateUnit",
        "ChargingScheduleMaxPeriods",
        "MaxChargingProfilesInstalled",
        "ConnectorPhaseRotation",
        "NumberOfConnectors",
        "SupportedFeatureProfiles",
    }
)


class Ocpp16Adapter:
    """The 1.6J view of a :class:`~simulators.station.adapters.common.StationHost`."""

    version = OcppVersion.V16

    def __init__(self, host: StationHost) -> None:
        self.host = host
        self._tx_ids: dict[str, int] = {}  # core transaction id → the CSMS's
        self._handlers: dict[str, Handler] = {
            "RemoteStartTransaction": self._remote_start,
            "RemoteStopTransaction": self._remote_stop,
            "SetChargingProfile": self._set_profile,
            "ClearChargingProfile": self._clear_profile,
            "GetCompositeSchedule": self._composite,
            "GetConfiguration": self._get_configuration,
            "ChangeConfiguration": self._change_configuration,
            "TriggerMessage": self._trigger,
            "ChangeAvailability": self._change_availability,
        }

    @property
    def handlers(self) -> Mapping[str, Handler]:
        return self._handlers

    # ------------------------------------------------------------------ station → CSMS
    def boot_request(self) -> dict[str, Any]:
        c = self.host.core.config
        return {
            "chargePointVendor": c.vendor,
            "chargePointModel": c.model,
            "chargePointSerialNumber": c.serial_number,
            "firmwareVersion": c.firmware_version,
        }

    def after_boot(self) -> None:
        core = self.host.core
        self._status(0, "Available")
        for evse_id in core.evse_ids:
            self._status(evse_id, STATUS_16[core.state(evse_id)])

    def _status(self, connector_id: int, status: str) -> None:
        payload = {
            "connectorId": connector_id,
            "errorCode": "NoError",
            "status": status,
            "timestamp": iso(self.host.now()),
        }
        self.host.enqueue("StatusNotification", fixed(payload))

    def on_event(self, event: StationEvent) -> None:
        if isinstance(event, StatusChanged):
            payload = {
                "connectorId": event.evse_id,
                "errorCode": "NoError",
                "status": STATUS_16[event.state],
                "timestamp": iso(event.at),
            }
            self.host.enqueue("StatusNotification", fixed(payload))
        elif isinstance(event, TransactionStarted):
            self._start_transaction(event)
        elif isinstance(event, TransactionEnded):
            self._stop_transaction(event)
        elif isinstance(event, MeterSampleDue):
            sample = event.sample
            self.host.enqueue("MeterValues", lambda: self._meter_values(sample))

    def _start_transaction(self, event: TransactionStarted) -> None:
        tx = event.transaction
        payload = {
            "connectorId": tx.evse_id,
            "idTag": tx.id_token,
            "meterStart": round(tx.meter_start_wh),
            "timestamp": iso(event.at),
        }

        def assigned(result: ResultReceived) -> None:
            csms_id = int(result.payload["transactionId"])
            self._tx_ids[tx.transaction_id] = csms_id
            self._tx_ids[str(csms_id)] = csms_id
            core = self.host.core
            running = core.transaction(tx.evse_id)
            if running is None or running.transaction_id != tx.transaction_id:
                return
            core.assign_transaction_id(tx.evse_id, str(csms_id))
            # 1.6 §4.8 (StopTransactionOnInvalidId, true here): a start the CSMS does not
            # authorize is stopped at once, reason DeAuthorized.
            if result.payload["idTagInfo"]["status"] != "Accepted":
                now = self.host.now()
                core.stop_transaction(tx.evse_id, now=now, reason=StopReason.DE_AUTHORIZED)
                self.host.poke()
                return
            # A TxProfile given with RemoteStartTransaction was bound to the station's own
            # id; it belongs to the transaction whatever the CSMS calls it.
            for item in core.installed_profiles:
                if item.profile.transaction_id == tx.transaction_id:
                    renamed = replace(item.profile, transaction_id=str(csms_id))
                    core.set_charging_profile(item.evse_id, renamed, now=self.host.now())
            self.host.poke()

        self.host.enqueue("StartTransaction", lambda: payload, on_result=assigned)

    def _stop_transaction(self, event: TransactionEnded) -> None:
        tx, sample = event.transaction, event.sample

        def build() -> dict[str, Any] | None:
            csms_id = self._tx_ids.get(tx.transaction_id)
            if csms_id is None:
                return None  # the CSMS never assigned an id: nothing to stop
            return {
                "transactionId": csms_id,
                "idTag": tx.id_token,
                "meterStop": round(sample.energy_import_wh),
                "timestamp": iso(event.at),
                "reason": str(event.reason),
                "transactionData": [self._meter_value(sample)],
            }

        self.host.enqueue("StopTransaction", build)

    def _meter_value(self, sample: MeterSample) -> dict[str, Any]:
        settings = self.host.settings
        clock = sample.reason is SampleReason.CLOCK
        rows = sampled_values(sample, settings.aligned_measurands if clock else settings.measurands)
        values = []
        for measurand, phase, value, unit in rows:
            item = {
                "value": _text(value),
                "context": str(sample.reason),
                "measurand": str(measurand),
                "unit": unit,
                "location": "EV" if measurand is Measurand.SOC else "Outlet",
            }
            if phase is not None:
                item["phase"] = phase
            values.append(item)
        return {"timestamp": iso(sample.timestamp), "sampledValue": values}

    def _meter_values(self, sample: MeterSample) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "connectorId": sample.evse_id,
            "meterValue": [self._meter_value(sample)],
        }
        if sample.transaction_id is not None:
            csms_id = self._tx_ids.get(sample.transaction_id)
            if csms_id is not None:
                payload["transactionId"] = csms_id
        return payload

    async def authorize(self, id_token: str) -> bool:
        result = await self.host.call("Authorize", {"idTag": id_token})
        return result is not None and result.payload["idTagInfo"]["status"] == "Accepted"

    def discharge_allowed(self, evse_id: int) -> bool:
        """1.6 has no discharging."""
        return False

    def external_limit_changed(self, evse_id: int, schedule: dict[str, Any] | None) -> None:
        """1.6 has no message for it: the limit applies silently."""

    # ------------------------------------------------------------------ CSMS → station
    def _connector(self, payload: Mapping[str, Any]) -> int | None:
        connector = payload.get("connectorId")
        if connector is not None:
            return int(connector)
        core = self.host.core
        free = [e for e in core.evse_ids if core.transaction(e) is None]
        return free[0] if free else None

    async def _remote_start(self, call: CallReceived) -> dict[str, Any]:
        p, host = call.payload, self.host
        evse_id = self._connector(p)
        if evse_id is None or evse_id not in host.core.evse_ids:
            return {"status": "Rejected"}
        profile = None
        if "chargingProfile" in p:
            parsed = parse_profile(self.version, evse_id, p["chargingProfile"])
            if isinstance(parsed, PayloadError):
                return {"status": "Rejected"}
            profile = parsed
        result = host.core.start_transaction(
            evse_id, id_token=p["idTag"], now=host.now(), remote=True, charging_profile=profile
        )
        host.poke()
        if isinstance(result, StartRefused) and not busy_accepted(host, result):
            return {"status": "Rejected"}
        return {"status": "Accepted"}

    async def _remote_stop(self, call: CallReceived) -> dict[str, Any]:
        wanted = str(call.payload["transactionId"])
        core = self.host.core
        for evse_id in core.evse_ids:
            tx = core.transaction(evse_id)
            if tx is not None and tx.transaction_id == wanted:
                core.stop_transaction(evse_id, now=self.host.now(), reason=StopReason.REMOTE)
                self.host.poke()
                return {"status": "Accepted"}
        return {"status": "Rejected"}

    async def _set_profile(self, call: CallReceived) -> dict[str, Any]:
        outcome = install_profile(self.host.core, self.version, call.payload, now=self.host.now())
        self.host.poke()
        return {"status": "Accepted" if isinstance(outcome, Accepted) else "Rejected"}

    async def _clear_profile(self, call: CallReceived) -> dict[str, Any]:
        p = call.payload
        cleared = clear_profiles(
            self.host.core,
            profile_id=p.get("id"),
            evse_id=p.get("connectorId"),
            purpose=p.get("chargingProfilePurpose"),
            stack_level=p.get("stackLevel"),
            now=self.host.now(),
        )
        self.host.poke()
        always = self.host.core.config.has(StationFault.CLEAR_ALWAYS_ACCEPTED)
        return {"status": "Accepted" if cleared or always else "Unknown"}

    async def _composite(self, call: CallReceived) -> dict[str, Any]:
        p = call.payload
        return composite(
            self.host.core,
            self.version,
            evse_id=int(p["connectorId"]),
            duration_s=int(p["duration"]),
            unit=p.get("chargingRateUnit"),
            now=self.host.now(),
        )

    def configuration(self) -> dict[str, str]:
        """Every configuration key and its value now."""
        c, s = self.host.core.config, self.host.settings
        supported = {str(u) for u in c.supported_units}
        units = ",".join(name for name, u in (("Current", "A"), ("Power", "W")) if u in supported)
        return {
            "HeartbeatInterval": str(s.heartbeat_interval_s),
            "MeterValueSampleInterval": str(c.meter_interval_s),
            "MeterValuesSampledData": ",".join(str(m) for m in s.measurands),
            "StopTxnSampledData": ",".join(str(m) for m in s.measurands),
            "ClockAlignedDataInterval": str(c.clock_aligned_interval_s or 0),
            "MeterValuesAlignedData": ",".join(str(m) for m in s.aligned_measurands),
            "ChargeProfileMaxStackLevel": str(_or(c.max_stack_level, 99)),
            "ChargingScheduleAllowedChargingRateUnit": units,
            "ChargingScheduleMaxPeriods": str(_or(c.max_periods, 1000)),
            "MaxChargingProfilesInstalled": str(_or(c.max_profiles, 1000)),
            "ConnectorPhaseRotation": ",".join(f"{e}.RST" for e in c.evse_ids),
            "NumberOfConnectors": str(c.evse_count),
            "SupportedFeatureProfiles": "Core,SmartCharging,RemoteTrigger",
            "AuthorizeRemoteTxRequests": "false",
            "ConnectionTimeOut": str(round(c.connection_timeout_s)),
        }

    async def _get_configuration(self, call: CallReceived) -> dict[str, Any]:
        known = self.configuration()
        asked = call.payload.get("key") or list(known)
        keys = [
            {"key": k, "readonly": k in _READ_ONLY, "value": known[k]} for k in asked if k in known
        ]
        unknown = [k for k in asked if k not in known]
        answer: dict[str, Any] = {"configurationKey": keys}
        if unknown:
            answer["unknownKey"] = unknown
        return answer

    async def _change_configuration(self, call: CallReceived) -> dict[str, Any]:
        key, value = call.payload["key"], call.payload["value"]
        if key not in self.configuration():
            return {"status": "NotSupported"}
        if key in _READ_ONLY:
            return {"status": "Rejected"}
        settings = self.host.settings
        if key in ("HeartbeatInterval", "MeterValueSampleInterval"):
            if not value.isdigit():
                return {"status": "Rejected"}
            if key == "HeartbeatInterval":
                settings.heartbeat_interval_s = int(value)
            else:
                self.host.set_meter_interval(int(value))
            return {"status": "Accepted"}
        if key in ("MeterValuesSampledData", "StopTxnSampledData", "MeterValuesAlignedData"):
            measurands = parse_measurands(value)
            if measurands is None:
                return {"status": "Rejected"}
            if key == "MeterValuesAlignedData":
                settings.aligned_measurands = measurands
            else:
                settings.measurands = measurands
            return {"status": "Accepted"}
        if key in ("ClockAlignedDataInterval", "ConnectionTimeOut"):
            if not value.isdigit():
                return {"status": "Rejected"}
            core = self.host.core
            if key == "ClockAlignedDataInterval":  # 0: no clock-aligned data
                core.set_clock_aligned_interval(int(value))
            else:
                core.config = replace(core.config, connection_timeout_s=float(value))
            return {"status": "Accepted"}
        return {"status": "Rejected"}

    async def _trigger(self, call: CallReceived) -> dict[str, Any]:
        p, host = call.payload, self.host
        wanted = p["requestedMessage"]
        connector = p.get("connectorId")
        evses = host.core.evse_ids if connector in (None, 0) else (int(connector),)
        if any(e not in host.core.evse_ids for e in evses):
            return {"status": "Rejected"}
        if wanted == "BootNotification":
            host.enqueue("BootNotification", self.boot_request)
        elif wanted == "Heartbeat":
            host.enqueue("Heartbeat", dict)
        elif wanted == "StatusNotification":
            for evse_id in evses:
                self._status(evse_id, STATUS_16[host.core.state(evse_id)])
        elif wanted == "MeterValues":
            for evse_id in evses:
                sample = host.core.meter(evse_id, reason=SampleReason.TRIGGER)
                host.enqueue("MeterValues", fixed(self._meter_values(sample)))
        else:
            return {"status": "NotImplemented"}
        return {"status": "Accepted"}

    async def _change_availability(self, call: CallReceived) -> dict[str, Any]:
        p, core = call.payload, self.host.core
        connector = int(p["connectorId"])
        evses = core.evse_ids if connector == 0 else (connector,)
        if any(e not in core.evse_ids for e in evses):
            raise CallErrorReply(ErrorCode.PROPERTY_CONSTRAINT_VIOLATION, "unknown connectorId")
        available = p["type"] == "Operative"
        now = self.host.now()
        results = {str(core.set_available(e, available=available, now=now)) for e in evses}
        self.host.poke()
        return {"status": availability(results)}


def _text(value: float) -> str:
    """A 1.6 sampled value (a string): integers without a fraction."""
    return str(int(value)) if float(value).is_integer() else f"{value}"


def _or(value: int | None, default: int) -> int:
    return default if value is None else value
