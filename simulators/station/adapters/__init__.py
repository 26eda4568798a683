"""OCPP adapters of the simulated station, one module per version.

:func:`make_adapter` picks the adapter of a version for a
:class:`~simulators.station.adapters.common.StationHost` (normally a
:class:`~simulators.station.runtime.SimulatedStation`).
"""

from __future__ import annotations

from harness.versions import OcppVersion
from simulators.station.adapters.common import OcppAdapter, StationHost, StationSettings
from simulators.station.adapters.ocpp16 import Ocpp16Adapter
from simulators.station.adapters.ocpp21 import Ocpp21Adapter
from simulators.station.adapters.ocpp201 import Ocpp201Adapter

__all__ = [
    "Ocpp16Adapter",
    "Ocpp21Adapter",
    "Ocpp201Adapter",
    "OcppAdapter",
    "StationHost",
    "StationSettings",
    "make_adapter",
]


def make_adapter(version: OcppVersion, host: StationHost) -> OcppAdapter:
    """The adapter that makes ``host`` speak ``version``."""
    if version is OcppVersion.V16:
        return Ocpp16Adapter(host)
    if version is OcppVersion.V201:
        return Ocpp201Adapter(host)
    return Ocpp21Adapter(host)
