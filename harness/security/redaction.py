"""Redaction: passwords, Authorization headers and private keys never reach logs or traces.

Three entry points, one set of rules:

* :func:`redact` — any value (text, mapping, list): returns the same shape with secrets
  replaced by :data:`REDACTED`.
* :func:`redact_frame` — one OCPP-J frame's raw text, as the trace store writes it. A frame
  that carries no secret is returned *unchanged* (byte for byte: it is evidence); one that
  does comes back as valid JSON with only the secret values replaced.
* :class:`RedactProcessor` — a structlog processor applying :func:`redact` to event dicts
  (installed by :func:`harness.logs.configure_logging`).

What counts as a secret:

* values of fields named like a password or credential (``password``, ``authorization``,
  ``apnPassword``, ``basicAuthPassword``, ``privateKey``, ``secret``, ``simPin``; any key
  ending in ``password``), and a ``vpn`` object's ``key``;
* OCPP 1.6 configuration key ``AuthorizationKey``: the ``value`` next to
  ``"key": "AuthorizationKey"`` (ChangeConfiguration.req, and a GetConfiguration.conf that
  wrongly returns it — the 1.6 security whitepaper makes it write-only);
* OCPP 2.0.1/2.1 variable ``SecurityCtrlr.BasicAuthPassword``: the ``attributeValue`` (or
  ``variableAttribute[].value``) of an object whose ``variable.name`` is
  ``BasicAuthPassword`` (SetVariables, GetVariables, NotifyReport);
* HTTP credentials in text (``Basic <token>``, ``Bearer <token>``, the password of a URL
  ``ws://user:password@host``) and PEM private key blocks (``-----BEGIN … PRIVATE
  KEY-----`` … ``END``);
* any literal string passed in ``secrets`` (configured passwords), wherever it appears.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any, Final, TextIO

__all__ = [
    "REDACTED",
    "FrameRedactor",
    "RedactProcessor",
    "redact",
    "redact_frame",
    "redacting_exception_formatter",
]

REDACTED: Final = "«redacted»"

_SENSITIVE_KEYS: Final = frozenset(
    {
        "authorization",
        "proxyauthorization",
        "password",
        "passwd",
        "apnpassword",
        "basicauthpassword",
        "authorizationkey",
        "privatekey",
        "secret",
        "simpin",
    }
)
_AUTHORIZATION_KEY: Final = "authorizationkey"
_BASIC_AUTH_PASSWORD: Final = "basicauthpassword"

_PEM_PRIVATE = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
    r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[^\"]*)",
    re.DOTALL,
)
_URL_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@\"]+:)[^/\s@\"]+@", re.IGNORECASE)
_HTTP_CREDENTIALS = re.compile(r"\b(Basic|Bearer)(\s+)([A-Za-z0-9+/._~-]{6,}=*)", re.IGNORECASE)
# Text that mentions an OCPP password (or, in logs, any frame cut short) but is not parseable
# JSON: every value-like string field is hidden, which may over-redact, never under.
_OCPP_MARKERS: Final = ("AuthorizationKey", "BasicAuthPassword")
_VALUE_FIELD = re.compile(r'("(?:value|attributeValue)"\s*:\s*)"(?:[^"\\]|\\.)*("?)')
_NAMED_FIELD = re.compile(
    r'("(?:[A-Za-z_]*[Pp]assword|[Aa]uthorization|[Pp]rivate_?[Kk]ey|[Ss]ecret|simPin)"'
    r'\s*:\s*)"(?:[^"\\]|\\.)*("?)'
)
# The test "can this frame hold a secret at all?" (:func:`_may_hold_secret`): every word a
# sensitive key can contain, in any letter case and with ``_`` or ``-`` between its letters
# (keys are compared that way, see _norm), the credential schemes (``Basic``/``Bearer``,
# followed by any whitespace), and any JSON \u escape (a key spelled with escapes is only
# seen once parsed).
_GATE_WORDS: Final = ("passw", "authorization", "secret", "simpin", "vpn", "private")
_GATE_LITERALS: Final = ("basic", "bearer", "\\u")
_GATE_NEEDLES: Final = (*_GATE_WORDS, *_GATE_LITERALS)


def _gate_pattern() -> re.Pattern[str]:
    """The gate as one regular expression, for text that is not ASCII (where ``re``'s
    case-insensitive matching also folds ``ſ`` to ``s``, ``ı`` to ``i``, ``K`` to ``k``)."""
    words = ["[_-]*".join(re.escape(c) for c in word) for word in _GATE_WORDS]
    literal = [re.escape(n) for n in _GATE_LITERALS]
    return re.compile("(?i:" + "|".join([*words, *literal]) + ")")


_FRAME_GATE: Final = _gate_pattern()


def _may_hold_secret(raw: str) -> bool:
    """False only when ``raw`` holds none of the gate's words in any letter case and
    spelling (``PASSWORD``, ``Pass_Word``, ``pass-w``...), no credential scheme and no JSON
    ``\\u`` escape: then no rule of :func:`redact_frame` can apply (configured secrets and
    URL passwords aside, which callers test themselves).

    ASCII text (nearly every frame) is lower-cased and stripped of ``_`` and ``-``, then
    searched for each word: a few passes in C over the text, where the case-insensitive
    regular expression with optional separators between letters cost 7-15x more (measured
    on a Heartbeat, its answer and a 3.6 kB MeterValues: 2.7/6.1/286 µs against
    0.4/0.9/19 µs). Text that is not ASCII takes that regular expression (Unicode case
    folding).
    """
    if not raw.isascii():
        return _FRAME_GATE.search(raw) is not None
    low = raw.lower()
    if "_" in low:
        low = low.replace("_", "")
    if "-" in low:
        low = low.replace("-", "")
    for needle in _GATE_NEEDLES:  # noqa: SIM110 (any() over a generator costs more per frame)
        if needle in low:
            return True
    return False


# Characters JSON text may spell as a backslash escape other than \u (", \, / and the
# control characters with short escapes): a configured secret holding one may appear in a
# frame's text escaped, so its plain spelling is not found there.
_SHORT_ESCAPED: Final = frozenset('"\\/\b\f\n\r\t')


def _secrets_present(raw: str, secrets: tuple[str, ...]) -> bool:
    """True when ``raw`` may hold one of ``secrets`` (as written, or JSON-escaped)."""
    for secret in secrets:
        if secret in raw:
            return True
        if "\\" in raw and not _SHORT_ESCAPED.isdisjoint(secret):
            return True
    return False


def _credentials(match: re.Match[str]) -> str:
    token = match.group(3)
    # A credential token, not an English word ("Basic authentication"): it has a digit or
    # base64 punctuation, or mixes upper and lower case.
    looks_encoded = any(c.isdigit() or c in "+/=" for c in token) or (
        any(c.isupper() for c in token) and any(c.islower() for c in token)
    )
    if not looks_encoded:
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


def _norm(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def _is_sensitive_key(key: str) -> bool:
    norm = _norm(key)
    return norm in _SENSITIVE_KEYS or norm.endswith("password")


def _secret_list(secrets: Iterable[str]) -> tuple[str, ...]:
    # Longest first, so a secret that contains another is replaced whole.
    return tuple(sorted({s for s in secrets if s}, key=len, reverse=True))


def _text(text: str, secrets: tuple[str, ...]) -> str:
    out = _PEM_PRIVATE.sub(REDACTED, text)
    out = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", out)
    out = _HTTP_CREDENTIALS.sub(_credentials, out)
    for secret in secrets:
        out = out.replace(secret, REDACTED)
    if out.lstrip()[:1] in ("[", "{"):
        try:
            json.loads(out)
        except ValueError:
            # A frame cut short (log lines keep the first 200 characters): the field that
            # says "BasicAuthPassword" may be cut off after its value, so hide every value.
            return _unparsed(out, secrets, every_value=True)
        return redact_frame(out, secrets=secrets)
    return out


def _value(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return _text(value, secrets)
    if isinstance(value, Mapping):
        return _mapping(value, secrets)
    if isinstance(value, list | tuple):
        return type(value)(_value(v, secrets) for v in value)
    return value


def _is_ocpp_secret_holder(obj: Mapping[Any, Any]) -> bool:
    key = obj.get("key")
    if isinstance(key, str) and _norm(key) == _AUTHORIZATION_KEY:
        return True
    variable = obj.get("variable")
    if isinstance(variable, Mapping):
        name = variable.get("name")
        return isinstance(name, str) and _norm(name) == _BASIC_AUTH_PASSWORD
    return False


def _mapping(obj: Mapping[Any, Any], secrets: tuple[str, ...]) -> dict[Any, Any]:
    holder = _is_ocpp_secret_holder(obj)
    out: dict[Any, Any] = {}
    for key, value in obj.items():
        name = key if isinstance(key, str) else ""
        if (name and _is_sensitive_key(name)) or (holder and name in ("value", "attributeValue")):
            out[key] = REDACTED if value is not None else None
        elif holder and name == "variableAttribute" and isinstance(value, list):
            out[key] = [
                {k: (REDACTED if k == "value" else _value(v, secrets)) for k, v in item.items()}
                if isinstance(item, Mapping)
                else _value(item, secrets)
                for item in value
            ]
        elif name == "vpn" and isinstance(value, Mapping):
            inner = _mapping(value, secrets)
            if "key" in inner:
                inner["key"] = REDACTED
            out[key] = inner
        else:
            out[key] = _value(value, secrets)
    return out


def redact(value: Any, *, secrets: Iterable[str] = ()) -> Any:
    """``value`` with every secret replaced by :data:`REDACTED` (same shape; a copy).

    Strings are scanned for PEM private keys, ``Basic``/``Bearer`` credentials, the given
    ``secrets`` and (when they look like OCPP-J frames) OCPP password fields; mappings and
    lists are walked, and fields named like a credential are hidden whatever their value.
    """
    return _value(value, _secret_list(secrets))


def redact_frame(raw: str, *, secrets: Iterable[str] = ()) -> str:
    """One OCPP-J frame's text with its secrets hidden; unchanged if it has none.

    Parseable JSON stays parseable: the secret values are replaced inside their string
    literals, so the rest of the text (spacing, key order, number spelling) is untouched.
    Text that is not JSON gets the pattern-based treatment of :func:`redact`.
    """
    listed = _secret_list(secrets)
    if (
        not _may_hold_secret(raw)
        and not _secrets_present(raw, listed)
        and ("@" not in raw or not _URL_USERINFO.search(raw))
    ):
        return raw
    try:
        parsed = json.loads(raw)
    except ValueError:
        return _unparsed(raw, listed)
    hidden = _mapping({"_": parsed}, listed)["_"]
    if hidden == parsed:
        return raw
    values: set[str] = set()
    _collect_secret_strings({"_": parsed}, values)
    out = raw
    # Whole string literals first (exact values), then configured secrets inside strings.
    for secret in sorted(values, key=len, reverse=True):
        for spelled in {json.dumps(secret), json.dumps(secret, ensure_ascii=False)}:
            out = out.replace(spelled, f'"{REDACTED}"')
    for secret in listed:
        for spelled in {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}:
            out = out.replace(spelled, REDACTED)
    out = _PEM_PRIVATE.sub(REDACTED, out)
    out = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", out)
    out = _HTTP_CREDENTIALS.sub(_credentials, out)
    try:
        if json.loads(out) == hidden:
            return out
    except ValueError:
        pass
    # The in-place edit hit something else too (a secret equal to another value, odd
    # escaping): write the redacted structure instead.
    return json.dumps(hidden, ensure_ascii=False, separators=(",", ":"))


class FrameRedactor:
    """:func:`redact_frame` with its ``secrets`` fixed, for a stream of frames (a trace).

    ``FrameRedactor(secrets)(raw) == redact_frame(raw, secrets=secrets)`` for every ``raw``:
    the same rules; the common frame that holds none of the markers :func:`redact_frame`
    looks for (:func:`_may_hold_secret`), no configured secret and no ``@`` is returned as
    it is after a few quick scans.
    """

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = _secret_list(secrets)

    def __call__(self, raw: str) -> str:
        """``raw`` with its secrets hidden; ``raw`` itself when it holds none."""
        secrets = self._secrets
        if "@" in raw or _may_hold_secret(raw) or (secrets and _secrets_present(raw, secrets)):
            return redact_frame(raw, secrets=secrets)
        return raw


def _collect_secret_strings(obj: Any, into: set[str]) -> None:
    """Add to ``into`` every string that :func:`_mapping` would hide in ``obj``."""
    if isinstance(obj, list):
        for item in obj:
            _collect_secret_strings(item, into)
        return
    if not isinstance(obj, Mapping):
        return
    hidden = _mapping(obj, ())
    for key, value in obj.items():
        if hidden.get(key) == REDACTED and isinstance(value, str) and value != REDACTED:
            into.add(value)
        elif isinstance(value, Mapping | list):
            _collect_secret_strings(value, into)
    for key in ("vpn", "variableAttribute"):
        inner = obj.get(key)
        if isinstance(inner, Mapping) and isinstance(inner.get("key"), str):
            into.add(inner["key"])
        if isinstance(inner, list) and _is_ocpp_secret_holder(obj):
            into.update(
                item["value"]
                for item in inner
                if isinstance(item, Mapping) and isinstance(item.get("value"), str)
            )


def _unparsed(text: str, secrets: tuple[str, ...], *, every_value: bool = False) -> str:
    out = _PEM_PRIVATE.sub(REDACTED, text)
    out = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", out)
    out = _HTTP_CREDENTIALS.sub(_credentials, out)
    for secret in secrets:
        out = out.replace(secret, REDACTED)
    out = _NAMED_FIELD.sub(lambda m: f'{m.group(1)}"{REDACTED}{m.group(2)}', out)
    if every_value or any(marker in out for marker in _OCPP_MARKERS):
        out = _VALUE_FIELD.sub(lambda m: f'{m.group(1)}"{REDACTED}{m.group(2)}', out)
    return out


class RedactProcessor:
    """A structlog processor: every event dict goes through :func:`redact`.

    ``secrets`` are literal strings (configured passwords) hidden wherever they appear.
    """

    def __init__(self, *, secrets: Iterable[str] = ()) -> None:
        self._secrets = _secret_list(secrets)

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        return _mapping(event_dict, self._secrets)


def redacting_exception_formatter(
    formatter: Callable[[TextIO, Any], None], *, secrets: Iterable[str] = ()
) -> Callable[[TextIO, Any], None]:
    """Wrap a structlog ``ConsoleRenderer`` exception formatter so its traceback text is
    redacted too (the console renderer formats ``exc_info`` after the processors ran)."""
    listed = _secret_list(secrets)

    def format_exception(sio: TextIO, exc_info: Any) -> None:
        buffer = io.StringIO()
        formatter(buffer, exc_info)
        sio.write(_text(buffer.getvalue(), listed))

    return format_exception
