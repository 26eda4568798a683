"""The quick gate of frame redaction ("can this frame hold a secret at all?").

The gate decides which frames skip redaction entirely, so it must never let through a
frame that the rules would change. Before issue #22 it was one case-insensitive regular
expression with optional ``_``/``-`` between the letters of each word; that expression is
kept here as the reference: whatever it flagged, the faster gate flags too (so no frame is
stored differently than before), and a few holes it had are closed.
"""

from __future__ import annotations

import json
import re

from hypothesis import example, given
from hypothesis import strategies as st

from harness.security import REDACTED, redact_frame
from harness.security.redaction import FrameRedactor, _mapping, _may_hold_secret

_OLD_WORDS = ("passw", "authorization", "secret", "simpin", "vpn", "private")


def _old_gate(extra: tuple[str, ...] = ()) -> re.Pattern[str]:
    """The gate as it was (main 9e0aee8), the reference the new one must cover."""
    words = ["[_-]*".join(re.escape(c) for c in word) for word in _OLD_WORDS]
    literal = [re.escape(n) for n in ("basic ", "bearer ", "\\u")]
    gate = "(?i:" + "|".join([*words, *literal]) + ")"
    return re.compile("|".join([gate, *(re.escape(n) for n in extra)]))


OLD_FRAME_GATE = _old_gate()
OLD_REDACTOR_GATE = _old_gate(("@",))

# Characters that stress the gate: the words' letters in both cases, the separators, the
# escape, whitespace, and letters that Unicode case folding maps onto ASCII ones.
_ALPHABET = 'pPaAsSwWoOrRdDuUtThHiIzZnNeEcCmMvVbBkKyY_-\\ \t"{}[]:,@ſıKİß0'


@st.composite
def _spelled_word(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from([*_OLD_WORDS, "basic ", "bearer ", "\\u", "password"]))
    out = []
    for c in word:
        out.append(c.upper() if draw(st.booleans()) else c)
        out.append(draw(st.sampled_from(["", "", "", "_", "-", "_-"])))
    return "".join(out)


_texts = st.one_of(
    st.text(alphabet=_ALPHABET, max_size=40),
    st.text(max_size=40),
    st.tuples(st.text(alphabet=_ALPHABET, max_size=12), _spelled_word(), st.text(max_size=12)).map(
        "".join
    ),
)


@given(raw=_texts)
@example(raw="PASSWORD")
@example(raw="Pass_Word")
@example(raw="paſſword")  # re's IGNORECASE folds ſ to s
@example(raw="\\U0070assword")
@example(raw="x-bearer abc")
def test_the_fast_gate_flags_everything_the_old_gate_flagged(raw: str) -> None:
    if OLD_FRAME_GATE.search(raw) is not None:
        assert _may_hold_secret(raw), raw


@given(raw=_texts, secret=st.sampled_from(["", "hunter2", "a/b", 'q"x']))
def test_the_frame_redactor_is_redact_frame(raw: str, secret: str) -> None:
    secrets = (secret,) if secret else ()
    assert FrameRedactor(secrets)(raw) == redact_frame(raw, secrets=secrets)


_values = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=10),
    _spelled_word(),
    st.tuples(
        _spelled_word(),
        st.sampled_from([" ", "\t", "\n"]),
        st.text("aB9+/=", min_size=6, max_size=10),
    ).map("".join),
)
_keys = st.one_of(
    st.text(max_size=8),
    _spelled_word(),
    st.sampled_from(["key", "vpn", "value", "variable", "name"]),
)
_payloads = st.recursive(
    st.dictionaries(_keys, _values, max_size=4),
    lambda inner: st.dictionaries(_keys, inner | st.lists(inner, max_size=2), max_size=3),
    max_leaves=8,
)


@given(payload=_payloads, ascii_only=st.booleans())
@example(payload={"Pass_Word": "x1"}, ascii_only=True)
@example(payload={"data": "Basic\tQ1AxOnNlY3JldA=="}, ascii_only=True)
@example(payload={"key": "AUTHORIZATIONKEY", "value": "k"}, ascii_only=True)
def test_a_frame_the_gate_lets_through_is_one_the_full_rules_leave_as_it_is(
    payload: dict[str, object], ascii_only: bool
) -> None:
    raw = json.dumps([2, "1", "DataTransfer", payload], ensure_ascii=ascii_only)
    if _may_hold_secret(raw) or "@" in raw:
        return
    parsed = json.loads(raw)
    assert _mapping({"_": parsed}, ())["_"] == parsed  # the full rules change nothing
    assert FrameRedactor()(raw) is raw


@given(
    key=_spelled_word().filter(
        lambda k: (
            k.lower().replace("_", "").replace("-", "") in {"password", "passw", "secret", "simpin"}
        )
    ),
    value=st.text(alphabet="abcXYZ0123", min_size=6, max_size=12),
)
def test_a_sensitive_key_in_any_spelling_is_hidden(key: str, value: str) -> None:
    raw = json.dumps([2, "7", "DataTransfer", {"vendorId": "v", "data": {key: value}}])
    out = FrameRedactor()(raw)
    if key.lower().replace("_", "").replace("-", "") in {"password", "secret", "simpin"}:
        assert value not in out
        assert json.loads(out)[3]["data"] == {key: REDACTED}


def test_a_credential_after_a_tab_is_hidden() -> None:
    # The old gate looked for "basic " with a space; the rule itself takes any whitespace.
    raw = json.dumps([2, "1", "DataTransfer", {"vendorId": "v", "data": "Basic\tQ1AxOnNlY3JldA=="}])
    for redacted in (redact_frame(raw), FrameRedactor()(raw)):
        assert "Q1AxOnNlY3JldA==" not in redacted


def test_a_configured_secret_written_with_json_escapes_is_hidden() -> None:
    # JSON may write "/" as "\/": the secret's plain spelling is then not in the text.
    raw = '[2,"1","DataTransfer",{"vendorId":"v","data":"pw a\\/b9 end"}]'
    assert json.loads(raw)[3]["data"] == "pw a/b9 end"
    for redacted in (redact_frame(raw, secrets=["a/b9"]), FrameRedactor(["a/b9"])(raw)):
        assert "a/b9" not in json.loads(redacted)[3]["data"]
        assert "a\\/b9" not in redacted


def test_frames_without_markers_pass_untouched_and_fast_path_is_identity() -> None:
    raw = '[3,"abc-1",{"currentTime":"2025-01-01T00:00:00Z","interval":300}]'
    assert not _may_hold_secret(raw)
    assert FrameRedactor()(raw) is raw
    assert FrameRedactor(["hunter2"])(raw) is raw
