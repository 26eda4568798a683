"""Redaction rules, one by one, and the invariants of frame redaction (hypothesis)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from harness.logs import configure_logging, get_logger
from harness.security import REDACTED, RedactProcessor, redact, redact_frame
from harness.security.redaction import FrameRedactor

SECRET = "S3cret-Passw0rd-0123"
PEM = (
    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgABCDEFGH\n"
    "-----END PRIVATE KEY-----\n"
)


def frame(*parts: Any) -> str:
    return json.dumps(list(parts))


def test_change_configuration_authorization_key_is_hidden_and_json_stays_valid() -> None:
    raw = '[2, "7",  "ChangeConfiguration", {"key": "AuthorizationKey", "value": "00ff11ee"}]'
    out = redact_frame(raw)
    assert out == raw.replace("00ff11ee", REDACTED)  # the rest of the text is untouched
    assert json.loads(out)[3] == {"key": "AuthorizationKey", "value": REDACTED}


def test_get_configuration_that_leaks_the_key_is_hidden_other_keys_kept() -> None:
    keys = [
        {"key": "AuthorizationKey", "readonly": False, "value": "abcdef0123"},
        {"key": "HeartbeatInterval", "readonly": False, "value": "60"},
    ]
    out = json.loads(redact_frame(frame(3, "1", {"configurationKey": keys})))
    assert out[2]["configurationKey"][0]["value"] == REDACTED
    assert out[2]["configurationKey"][1]["value"] == "60"


def test_set_variables_basic_auth_password_is_hidden_other_variables_kept() -> None:
    data = [
        {
            "attributeValue": SECRET,
            "component": {"name": "SecurityCtrlr"},
            "variable": {"name": "BasicAuthPassword"},
        },
        {
            "attributeValue": "300",
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "HeartbeatInterval"},
        },
    ]
    out = json.loads(redact_frame(frame(2, "1", "SetVariables", {"setVariableData": data})))
    assert out[3]["setVariableData"][0]["attributeValue"] == REDACTED
    assert out[3]["setVariableData"][1]["attributeValue"] == "300"


def test_notify_report_variable_attribute_values_are_hidden() -> None:
    report = {
        "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"},
        "variableAttribute": [{"type": "Actual", "value": SECRET}],
    }
    raw = frame(2, "1", "NotifyReport", {"requestId": 1, "seqNo": 0, "reportData": [report]})
    out = redact_frame(raw)
    assert SECRET not in out
    assert json.loads(out)[3]["reportData"][0]["variableAttribute"][0]["value"] == REDACTED


def test_network_profile_credentials_are_hidden() -> None:
    data = {
        "vpn": {"server": "vpn.lab", "user": "u", "password": "vpn-pass", "key": "psk-123"},
        "apn": {"apn": "internet", "apnPassword": "apn-pass", "apnAuthentication": "AUTO"},
    }
    out = redact_frame(frame(2, "1", "SetNetworkProfile", {"connectionData": data}))
    for secret in ("vpn-pass", "psk-123", "apn-pass"):
        assert secret not in out
    assert "vpn.lab" in out


def test_frames_without_secrets_are_returned_byte_for_byte() -> None:
    raw = '[2, "1" ,"SetChargingProfile",{"limit": 16.00, "value": "x"}]'
    assert redact_frame(raw) is raw
    assert redact_frame("not json at all") == "not json at all"


def test_configured_secrets_are_hidden_anywhere() -> None:
    raw = frame(2, "1", "DataTransfer", {"vendorId": "x", "data": f"pw={SECRET};"})
    out = redact_frame(raw, secrets=[SECRET])
    assert SECRET not in out
    assert json.loads(out)[3]["data"] == f"pw={REDACTED};"


def test_a_frame_cut_short_in_a_log_line_is_hidden_conservatively() -> None:
    data = [
        {
            "attributeValue": SECRET,
            "component": {"name": "SecurityCtrlr"},
            "variable": {"name": "BasicAuthPassword"},
        }
    ]
    raw = frame(2, "1", "SetVariables", {"setVariableData": data})
    cut = raw[: raw.index(SECRET) + len(SECRET) + 5]  # "BasicAuthPassword" is cut off
    assert SECRET not in redact({"raw": cut})["raw"]


def test_text_rules_headers_and_pem_keys() -> None:
    out = redact(
        {
            "headers": {"Authorization": "Basic Q1AxOnNlY3JldA==", "Host": "127.0.0.1"},
            "line": "Authorization: Basic Q1AxOnNlY3JldA== sent",
            "reason": "HTTP Basic authentication required",
            "key": PEM,
            "nested": [{"password": "x"}, ("db_password", {"client_secret": "y"})],
        }
    )
    assert out["headers"] == {"Authorization": REDACTED, "Host": "127.0.0.1"}
    assert out["line"] == f"Authorization: Basic {REDACTED} sent"
    assert out["reason"] == "HTTP Basic authentication required"  # words are not tokens
    assert out["key"] == f"{REDACTED}\n"
    assert out["nested"][0] == {"password": REDACTED}


def test_structlog_processor_in_configure_logging() -> None:
    buffer = io.StringIO()
    configure_logging(json_lines=True, level="DEBUG", stream=buffer, secrets=[SECRET])
    get_logger("t").debug("x", password="p", header=f"Basic {SECRET}", note=f"is {SECRET}")
    record = json.loads(buffer.getvalue().strip().splitlines()[-1])
    assert record["password"] == REDACTED
    assert SECRET not in buffer.getvalue()
    assert record["event"] == "x"
    assert RedactProcessor(secrets=["zz"])(None, "info", {"event": "a zz b"}) == {
        "event": f"a {REDACTED} b"
    }


_json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
_payloads = st.dictionaries(st.text(max_size=8), _json_scalars, max_size=4)


@given(
    payload=_payloads,
    secret=st.text(min_size=1, max_size=30),
    indent=st.sampled_from([None, 0, 2]),
    ascii_only=st.booleans(),
)
@example(payload={}, secret="SetVariables", indent=None, ascii_only=True)
@example(payload={"a": "x"}, secret="x", indent=2, ascii_only=False)
@example(payload={}, secret="m1", indent=None, ascii_only=True)
def test_set_variables_frames_stay_valid_json_without_the_secret(
    payload: dict[str, Any], secret: str, indent: int | None, ascii_only: bool
) -> None:
    item = {
        **payload,
        "attributeValue": secret,
        "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"},
    }
    raw = json.dumps(
        [2, "m1", "SetVariables", {"setVariableData": [item]}],
        indent=indent,
        ensure_ascii=ascii_only,
    )
    out = redact_frame(raw)
    parsed = json.loads(out)
    assert parsed[3]["setVariableData"][0]["attributeValue"] == REDACTED
    assert parsed[:3] == [2, "m1", "SetVariables"]
    kept = parsed[3]["setVariableData"][0]
    for key, value in payload.items():
        plain_key = key not in ("attributeValue", "component", "variable") and not any(
            word in key.lower().replace("_", "")
            for word in ("password", "passwd", "authorization", "secret", "privatekey", "simpin")
        )
        plain_value = not (
            isinstance(value, str) and ("basic" in value.lower() or "bearer" in value.lower())
        )
        if plain_key and plain_value:
            assert kept[key] == value  # the rest of the payload survives


@given(payload=_payloads)
def test_frames_with_no_secret_fields_are_unchanged(payload: dict[str, Any]) -> None:
    clean = {k: v for k, v in payload.items() if "assword" not in k.lower()}
    raw = json.dumps([2, "1", "Heartbeat", clean])
    markers = ("uthorization", "ecret", "rivate", "simPin", "vpn", "Basic ", "Bearer ")
    assume(all(m not in raw for m in markers))
    assert redact_frame(raw) == raw


def test_url_passwords_are_hidden_user_kept() -> None:
    out = redact({"url": "wss://CP1:Pw-123456789abcdef@127.0.0.1:9000/ocpp/CP1"})
    assert out["url"] == f"wss://CP1:{REDACTED}@127.0.0.1:9000/ocpp/CP1"
    assert redact("see https://example.invalid/a:b@c") == "see https://example.invalid/a:b@c"


def test_a_csms_url_with_credentials_in_a_frame_is_hidden() -> None:
    data = {"ocppCsmsUrl": "wss://CP1:Pw-123456789abcdef@csms.lab/ocpp", "securityProfile": 2}
    out = redact_frame(frame(2, "1", "SetNetworkProfile", {"connectionData": data}))
    assert "Pw-123456789abcdef" not in out
    assert json.loads(out)[3]["connectionData"]["ocppCsmsUrl"] == (
        f"wss://CP1:{REDACTED}@csms.lab/ocpp"
    )


@pytest.mark.parametrize("json_lines", [True, False])
def test_tracebacks_in_logs_are_redacted(json_lines: bool) -> None:
    buffer = io.StringIO()
    configure_logging(json_lines=json_lines, level="INFO", stream=buffer, secrets=[SECRET])
    try:
        raise ValueError(f"bad header Basic Q1AxOnNlY3JldA== for {SECRET}")
    except ValueError:
        get_logger("t").error("failed", exc_info=True)
    text = buffer.getvalue()
    assert "ValueError" in text
    assert "failed" in text
    assert SECRET not in text
    assert "Q1AxOnNlY3JldA==" not in text


@pytest.mark.parametrize(
    "key",
    ["PASSWORD", "passwd", "Pass_Word", "SIM-PIN", "\\u0070assword", "ProxyAUTHORIZATION"],
)
def test_a_sensitive_key_in_any_spelling_is_hidden_by_both_frame_redactors(key: str) -> None:
    # The quick "can this frame hold a secret?" test once looked for case-exact fragments
    # ("assword"): a frame whose only secret was under PASSWORD or passwd went out as it was.
    raw = '[2,"7","DataTransfer",{"vendorId":"v","data":{"' + key + '":"hunter2-42"}}]'
    for redacted in (redact_frame(raw), FrameRedactor()(raw)):
        assert "hunter2-42" not in redacted, redacted
        assert json.loads(redacted)[3]["data"] == {json.loads(f'"{key}"'): REDACTED}


def test_a_frame_without_any_secret_is_returned_as_it_is() -> None:
    raw = '[2,"8","MeterValues",{"evseId":1,"meterValue":[]}]'
    assert redact_frame(raw) is raw
    assert FrameRedactor()(raw) is raw
