"""Who the device under test says it is: the identity in its BootNotification, as a
:class:`~harness.results.DeviceRef` for ``run.json``, the results, the report and JUnit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.results import DeviceKind, DeviceRef

__all__ = ["BootInfo", "boot_info", "station_device"]


@dataclass(frozen=True, slots=True)
class BootInfo:
    """What a station said about itself in BootNotification (empty: not said)."""

    vendor: str = ""
    model: str = ""
    firmware: str = ""
    serial: str = ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def boot_info(payload: Mapping[str, Any] | None) -> BootInfo:
    """Vendor, model, firmware and serial from a BootNotification payload of any version.

    OCPP 1.6: ``chargePointVendor``, ``chargePointModel``, ``firmwareVersion``,
    ``chargePointSerialNumber``; 2.0.1/2.1: ``chargingStation.vendorName``, ``.model``,
    ``.firmwareVersion``, ``.serialNumber``.
    """
    if not payload:
        return BootInfo()
    station = payload.get("chargingStation")
    if isinstance(station, Mapping):
        return BootInfo(
            vendor=_text(station.get("vendorName")),
            model=_text(station.get("model")),
            firmware=_text(station.get("firmwareVersion")),
            serial=_text(station.get("serialNumber")),
        )
    return BootInfo(
        vendor=_text(payload.get("chargePointVendor")),
        model=_text(payload.get("chargePointModel")),
        firmware=_text(payload.get("firmwareVersion")),
        serial=_text(payload.get("chargePointSerialNumber")),
    )


def station_device(station_id: str, boot: Mapping[str, Any] | None) -> DeviceRef:
    """The station ``station_id`` with the identity of its BootNotification ``boot``:
    label ``"<vendor> <model>"`` (the id when neither was said), attributes ``vendor``,
    ``model``, ``firmware``, ``serial`` (those that were said)."""
    info = boot_info(boot)
    attributes = {
        name: value
        for name, value in (
            ("vendor", info.vendor),
            ("model", info.model),
            ("firmware", info.firmware),
            ("serial", info.serial),
        )
        if value
    }
    label = " ".join(p for p in (info.vendor, info.model) if p) or station_id
    return DeviceRef(DeviceKind.STATION, station_id, label, attributes)
