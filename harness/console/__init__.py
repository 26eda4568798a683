"""The live lab console: a web page for ``serve`` showing every station, its run, a live plot
per EVSE, and the operator's prompts to answer by clicking.

* :mod:`harness.console.hub` — the event stream (a :class:`~harness.lab.observer.LabObserver`).
* :mod:`harness.console.web` — the aiohttp server: page, server-sent events, answers, reports.
* :mod:`harness.console.desk` — prompts raced over browser, terminal and MQTT; answers
  recorded in the run folder.
* :mod:`harness.console.cli` — options and start-up for the commands.
"""

from harness.console.cli import ConsoleSettings, console_options, report_url, start_console
from harness.console.desk import (
    ANSWERS_FILE,
    AnswerChannel,
    ConsoleDesk,
    MqttChannel,
    TerminalChannel,
)
from harness.console.hub import ConsoleHub, Event, PendingPrompt
from harness.console.web import ConsoleServer, is_loopback, new_token

__all__ = [
    "ANSWERS_FILE",
    "AnswerChannel",
    "ConsoleDesk",
    "ConsoleHub",
    "ConsoleServer",
    "ConsoleSettings",
    "Event",
    "MqttChannel",
    "PendingPrompt",
    "TerminalChannel",
    "console_options",
    "is_loopback",
    "new_token",
    "report_url",
    "start_console",
]
