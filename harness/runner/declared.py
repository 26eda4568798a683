"""What a capability declaration promises about the requests the harness sends.

A station that declares a feature (``smart_charging: true``) and then answers a request of
that feature with CALLERROR ``NotImplemented`` / ``NotSupported`` — or, in 1.6,
SetChargingProfile with status ``NotSupported`` — breaks its own declaration: that is the
station's FAIL, never INCONCLUSIVE (the harness could judge: the feature is missing). The
FAIL cites the declaration field (:func:`declared_unsupported`).

Only requests a declaration field speaks for are covered: smart-charging requests
(``smart_charging``, or ``v2x`` for 2.1 profiles), DER control (``der_control``) and, for a
station declaring OCPP 1.6, the Core profile's requests (every 1.6 station must implement
Core: OCPP 1.6 §3.1 "Feature profiles").
"""

from __future__ import annotations

from typing import Any

from harness.scenario import Capabilities

__all__ = ["UNSUPPORTED_CODES", "declared_support", "declared_unsupported", "unsupported_answer"]

UNSUPPORTED_CODES = frozenset({"NotImplemented", "NotSupported"})
"""CALLERROR codes that say "this station does not do that"."""

_SMART_CHARGING = frozenset(
    {"SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule", "GetChargingProfiles"}
)
_DER = frozenset({"SetDERControl", "GetDERControl", "ClearDERControl"})
_CORE_16 = frozenset(
    {
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ChangeAvailability",
        "ChangeConfiguration",
        "GetConfiguration",
        "ClearCache",
        "Reset",
        "UnlockConnector",
    }
)


def declared_support(action: str, capabilities: Capabilities | None, version: str) -> str | None:
    """The declaration field that promises ``action`` (e.g. ``"smart_charging: true"``), or
    ``None`` when the declaration promises nothing about it (or there is none)."""
    if capabilities is None:
        return None
    if action in _SMART_CHARGING:
        if capabilities.smart_charging:
            return "smart_charging: true"
        if capabilities.v2x:
            return "v2x: true"
        return None
    if action in _DER and capabilities.der_control:
        return "der_control: true"
    if action in _CORE_16 and version == "1.6":
        return 'ocpp_versions: ["1.6"] (the Core profile every 1.6 station implements)'
    return None


def unsupported_answer(
    action: str, *, error_code: str | None, payload: dict[str, Any] | None
) -> str | None:
    """How the answer says "not supported" (``"CALLERROR NotImplemented"``, ``"status
    NotSupported"``), or ``None`` when it does not."""
    if error_code is not None and error_code in UNSUPPORTED_CODES:
        return f"CALLERROR {error_code}"
    # OCPP 1.6 ChargingProfileStatus NotSupported: "Charge Point indicates that the request
    # is not supported".
    if (
        action == "SetChargingProfile"
        and payload is not None
        and payload.get("status") == "NotSupported"
    ):
        return "status NotSupported"
    return None


def declared_unsupported(
    action: str,
    *,
    error_code: str | None,
    payload: dict[str, Any] | None,
    capabilities: Capabilities | None,
    version: str,
) -> str | None:
    """When the answer says ``action`` is not supported although the declaration promises it:
    the sentence a FAIL's Expected ends with (it cites the field); else ``None``."""
    field = declared_support(action, capabilities, version)
    if field is None:
        return None
    how = unsupported_answer(action, error_code=error_code, payload=payload)
    if how is None:
        return None
    return f"the declaration says {field}, so {action} must not be answered {how}"
