"""Record and replay: the recording proxy, trace import, scenarios from recordings.

* :class:`RecordingProxy` — relays OCPP-J connections from stations to a real CSMS,
  forwarding every frame unchanged and recording it (``ocpp-harness proxy``).
* :func:`load_recording` — reads a recorded trace (the proxy's, the harness's own, or JSON
  lines ``[direction, timestamp, frame]`` from other tools) into a :class:`Recording`.
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
