"""Record and replay: the recording proxy, trace import, scenarios from recordings.

* :class:`RecordingProxy` — relays OCPP-J connections from stations to a real CSMS,
  forwarding every frame unchanged and recording it (``ocpp-harness proxy``).
* :func:`load_recording` — reads a recorded trace (the proxy's, the harness's own, or JSON
  lines ``[direction, timestamp, frame]`` from other tools) into a :class:`Recording`;
  :func:`harness.scenario.from_trace.scenario_from_recording` turns it into a case.

Usage::

    manifest = Manifest(run_id=new_run_id(started_at=clock.now()), started_at=clock.now(),
                        target="proxy ws://127.0.0.1:9100/ocpp", ocpp_versions=())
    writer = RunStore.create("runs", manifest)
    async with RecordingProxy(upstream_url="ws://127.0.0.1:9100/ocpp", writer=writer,
                              clock=clock, port=9000) as proxy:
        ...                                   # stations use proxy.url("CP1")
    recording = load_recording(trace_path)    # e.g. runs/<run-id>/traces/<key>.jsonl
"""

from harness.proxy.importers import (
    RecordedFrame,
    Recording,
    RecordingFormatError,
    Sender,
    load_recording,
)
from harness.proxy.recorder import FrameSource, RecordingStats
from harness.proxy.server import RecordingProxy

__all__ = [
    "FrameSource",
    "RecordedFrame",
    "Recording",
    "RecordingFormatError",
    "RecordingProxy",
    "RecordingStats",
    "Sender",
    "load_recording",
]
