"""Property: whatever the recorded personal values are, none reaches the generated YAML."""

from __future__ import annotations

import string
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.proxy import RecordedFrame, Recording, Sender
from harness.scenario.fields import DutRole
from harness.scenario.from_trace import FromTraceOptions, scenario_from_recording, scenario_yaml

# A fixed prefix keeps a generated secret from being a word the YAML contains anyway.
SECRET = st.text(
    alphabet=string.ascii_letters + string.digits + "-_.", min_size=6, max_size=20
).map(lambda text: "Zq" + text)


def frames(id_tag: str, password: str, token: str) -> tuple[RecordedFrame, ...]:
    raw = [
        (Sender.STATION, f'[2,"1","Authorize",{{"idTag":"{id_tag}"}}]'),
        (Sender.CSMS, f'[3,"1",{{"idTagInfo":{{"status":"Accepted","parentIdTag":"{token}"}}}}]'),
        (
            Sender.CSMS,
            f'[2,"2","ChangeConfiguration",{{"key":"AuthorizationKey","value":"{password}"}}]',
        ),
        (Sender.STATION, '[3,"2",{"status":"Accepted"}]'),
        (Sender.CSMS, f'[2,"3","DataTransfer",{{"vendorId":"X","data":"tag={id_tag};"}}]'),
        (Sender.STATION, '[3,"3",{"status":"Accepted"}]'),
    ]
    return tuple(
        RecordedFrame(sender=s, offset_s=float(i), raw=r, line=i + 1)
        for i, (s, r) in enumerate(raw)
    )


@settings(max_examples=30, deadline=None)
@given(id_tag=SECRET, password=SECRET, token=SECRET, role=st.sampled_from(list(DutRole)))
def test_no_recorded_personal_value_in_the_yaml(
    id_tag: str, password: str, token: str, role: DutRole
) -> None:
    recording = Recording(
        source="session.jsonl",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        frames=frames(id_tag, password, token),
    )
    text = scenario_yaml(scenario_from_recording(recording, FromTraceOptions(role=role)))
    for secret in (id_tag, password, token):
        assert secret not in text
    assert "${id_tag}" in text
