"""OCPP versions, the two roles, and which role may initiate which action.

The direction tables are what the specifications' message lists say: most actions flow one
way only (a station sends BootNotification, a CSMS sends SetChargingProfile); DataTransfer
flows both ways. An action that is known to a version but arrives from the wrong side is
answered with ``NotSupported`` (the receiver knows the action but will not act on it).
"""

from __future__ import annotations

from enum import StrEnum

from harness.versions import OcppVersion

__all__ = ["Role", "initiators"]


class Role(StrEnum):
    """Which end of the connection a session plays."""

    CSMS = "csms"
    CHARGING_STATION = "charging_station"

    @property
    def peer(self) -> Role:
        """The role of the other end."""
        return Role.CHARGING_STATION if self is Role.CSMS else Role.CSMS


_BOTH = frozenset({Role.CSMS, Role.CHARGING_STATION})
_CS = frozenset({Role.CHARGING_STATION})
_CSMS = frozenset({Role.CSMS})

# OCPP-J 1.6 section 4 / OCPP 1.6 section 4 "Operations initiated by Charge Point", plus the
# 1.6 security whitepaper's station-initiated messages.
_STATION_INITIATED_16 = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "SecurityEventNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    }
)

# OCPP 2.0.1 part 2: messages sent by the Charging Station to the CSMS.
_STATION_INITIATED_201 = frozenset(
    {
        "Authorize",
        "BootNotification",
        "ClearedChargingLimit",
        "FirmwareStatusNotification",
        "Get15118EVCertificate",
        "GetCertificateStatus",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "NotifyChargingLimit",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "NotifyReport",
        "PublishFirmwareStatusNotification",
        "ReportChargingProfiles",
        "ReservationStatusUpdate",
        "SecurityEventNotification",
        "SignCertificate",
        "StatusNotification",
        "TransactionEvent",
    }
)

# OCPP 2.1 adds these station-initiated messages to the 2.0.1 set.
_STATION_INITIATED_21 = _STATION_INITIATED_201 | frozenset(
    {
        "BatterySwap",
        "ClosePeriodicEventStream",
        "GetCertificateChainStatus",
        "NotifyDERAlarm",
        "NotifyDERStartStop",
        "NotifyPeriodicEventStream",
        "NotifyPriorityCharging",
        "NotifySettlement",
        "OpenPeriodicEventStream",
        "PullDynamicScheduleUpdate",
        "ReportDERControl",
        "VatNumberValidation",
    }
)

_STATION_INITIATED = {
    OcppVersion.V16: _STATION_INITIATED_16,
    OcppVersion.V201: _STATION_INITIATED_201,
    OcppVersion.V21: _STATION_INITIATED_21,
}


def initiators(version: OcppVersion, action: str) -> frozenset[Role]:
    """The roles that may send a CALL (or SEND) for ``action`` in ``version``.

    The caller is expected to know that ``action`` exists in ``version`` (see
    :class:`harness.session.schemas.SchemaSet`); unknown names are reported as CSMS-initiated.
    """
    if action == "DataTransfer":
        return _BOTH
    return _CS if action in _STATION_INITIATED[version] else _CSMS
