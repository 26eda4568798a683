"""What a simulated station keeps over a reboot: its flash.

A real station writes its charging profiles to non-volatile memory (OCPP 2.0.1 K01: profiles
other than TxProfiles persist over a reboot; OCA TC_K_13_CS checks it). The simulated station
reads one :class:`StationMemory` when it starts and writes it as profiles come and go; who
builds stations keeps the memory of each and hands it to the station that replaces it after
a reboot (:func:`harness.runner.simstation.builtin_factory` does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["StationMemory"]


@dataclass(slots=True)
class StationMemory:
    """A station's non-volatile memory.

    ``profiles``: the installed charging profiles that persist, as the CSMS sent them, by
    (EVSE id, profile id); ``boot_reason``: why the next boot happens (2.x
    BootReasonEnumType, e.g. ``RemoteReset``; ``None``: a power-up).
    """

    profiles: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    boot_reason: str | None = None
