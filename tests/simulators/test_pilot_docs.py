"""simulators/PILOT_LINK.md stays true: its examples decode, its topics are the code's."""

from __future__ import annotations

import re
from pathlib import Path

import simulators.pilot as pilot
from simulators.pilot import PilotTopics, decode, encode
from simulators.vehicle import PilotOffer, VehicleReading

DOC = Path(pilot.__file__).resolve().parents[1] / "PILOT_LINK.md"
KINDS = {
    cls.__name__: cls
    for cls in (
        PilotOffer,
        VehicleReading,
        pilot.PlugEvent,
        pilot.PlugCommand,
        pilot.DischargeRequest,
        pilot.DischargeAnswer,
        pilot.LinkStatus,
    )
}


def _sections() -> list[tuple[str, str, list[str]]]:
    """(topic suffix, type name, json examples) for each ``### `/x` — Type`` section."""
    text = DOC.read_text(encoding="utf-8")
    found = []
    parts = re.split(r"^### `(/[a-z/0-9]+)` — (\w+)$", text, flags=re.M)
    for suffix, name, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
        body = body.split("\n## ")[0]
        found.append((suffix, name, re.findall(r"```json\n(.*?)\n```", body, flags=re.S)))
    return found


def test_every_documented_example_decodes_and_re_encodes_identically() -> None:
    sections = _sections()
    assert {name for _, name, _ in sections} == set(KINDS)
    for suffix, name, examples in sections:
        assert examples, f"{DOC.name}: section {suffix} has no example"
        for example in examples:
            message = decode(KINDS[name], example)
            assert encode(message).decode() == example, f"{suffix}: not the canonical encoding"


def test_documented_topics_are_the_codes_topics() -> None:
    topics = PilotTopics.for_evse(station_id="CP1", evse_id=1)
    code = {
        getattr(topics, attr).removeprefix(topics.base)
        for attr in ("pilot", "plug_set", "v2x", "vehicle", "plug", "v2x_answer", "link")
    }
    text = DOC.read_text(encoding="utf-8")
    table = set(re.findall(r"^\| `(/[a-z0-9/]+)`\s+\|", text, flags=re.M))
    assert table == code
    assert {suffix for suffix, _, _ in _sections()} == code
