"""Prompts raced over browser, terminal and MQTT: the first answer wins, the rest are withdrawn, and
every answer is recorded in the run folder."""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import aiomqtt

from harness.console import ANSWERS_FILE, ConsoleDesk, ConsoleHub, MqttChannel, TerminalChannel
from harness.lab import MqttDesk
from simulators.pilot import MqttSettings
from tests.conftest import Broker

NOW = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)


class _Pipe:
    """A terminal whose input the test types, line by line."""

    def __init__(self) -> None:
        read_fd, write_fd = os.pipe()
        self.stdin: TextIO = os.fdopen(read_fd, "r")
        self._writer = os.fdopen(write_fd, "w")

    def type(self, text: str) -> None:
        self._writer.write(text)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def _desk(
    tmp_path: Path, stdin: TextIO, hub: ConsoleHub | None
) -> tuple[ConsoleDesk, list[str], TerminalChannel]:
    lines: list[str] = []
    terminal = TerminalChannel(stdin=stdin, stdout=io.StringIO())
    desk = ConsoleDesk(
        channels=[terminal],
        hub=hub,
        now=lambda: NOW,
        run_dir=lambda sid: tmp_path if sid == "CP1" else None,
        echo=lines.append,
    )
    return desk, lines, terminal


def _recorded(tmp_path: Path) -> list[dict[str, object]]:
    text = (tmp_path / ANSWERS_FILE).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


async def _until(condition: Callable[[], bool], *, timeout_s: float = 10.0) -> None:
    async def poll() -> None:
        while not condition():  # noqa: ASYNC110 (the desk has no event to wait on)
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout_s)


async def test_the_browser_answers_first_and_the_terminal_prompt_is_withdrawn(
    tmp_path: Path,
) -> None:
    hub = ConsoleHub(now=lambda: NOW)
    pipe = _Pipe()
    desk, lines, _ = _desk(tmp_path, pipe.stdin, hub)
    try:
        asking = asyncio.create_task(desk.operator("CP1").ask("Plug in", yes_no=False))
        await _until(lambda: "CP1-1" in hub.prompts)
        assert hub.answer("CP1-1", True, where="127.0.0.1 (test)")
        assert await asyncio.wait_for(asking, 10) is True
        assert hub.prompts == {}
        # The next prompt takes the next line typed: the withdrawn one swallowed nothing.
        asking = asyncio.create_task(desk.operator("CP1").ask("Charging?", yes_no=True))
        await _until(lambda: "CP1-2" in hub.prompts)
        pipe.type("n\n")
        assert await asyncio.wait_for(asking, 10) is False
        assert hub.prompts == {}  # withdrawn from the browser
    finally:
        pipe.close()
    assert [(a["id"], a["answer"], a["by"], a["where"]) for a in _recorded(tmp_path)] == [
        ("CP1-1", True, "browser", "127.0.0.1 (test)"),
        ("CP1-2", False, "terminal", "stdin"),
    ]
    assert lines == ["[CP1] Plug in: done (browser, 127.0.0.1 (test))"]


async def test_a_terminal_without_input_leaves_the_browser_to_answer(tmp_path: Path) -> None:
    hub = ConsoleHub(now=lambda: NOW)
    desk, _, terminal = _desk(tmp_path, io.StringIO(""), hub)  # end of input at once
    asking = asyncio.create_task(desk.operator("CP1").ask("Charging?", yes_no=True))
    await _until(lambda: "CP1-1" in hub.prompts and terminal.ended)
    assert not asking.done()  # the terminal dropped out; the browser is still asked
    assert hub.answer("CP1-1", False, where="here")
    assert await asyncio.wait_for(asking, 10) is False


async def test_nobody_to_answer_is_no_answer_and_is_recorded(tmp_path: Path) -> None:
    desk, lines, _ = _desk(tmp_path, io.StringIO(""), hub=None)
    assert await asyncio.wait_for(desk.operator("CP1").ask("Plug in", yes_no=False), 10) is None
    assert [(a["answer"], a["by"]) for a in _recorded(tmp_path)] == [(None, "nobody")]
    assert lines == ["[CP1] Plug in: no answer (nobody)"]


async def test_lines_typed_ahead_answer_the_following_prompts(tmp_path: Path) -> None:
    desk, _, _ = _desk(tmp_path, io.StringIO("\ny\n"), hub=None)
    operator = desk.operator("CP1")
    assert await asyncio.wait_for(operator.ask("Plug in", yes_no=False), 10) is True
    assert await asyncio.wait_for(operator.ask("Charging?", yes_no=True), 10) is True
    assert [a["by"] for a in _recorded(tmp_path)] == ["terminal", "terminal"]


async def test_the_browser_answers_first_and_the_mqtt_prompt_is_cleared(
    tmp_path: Path, mosquitto: Broker
) -> None:
    settings = MqttSettings.from_url(mosquitto.url, prefix="console-desk")
    hub = ConsoleHub(now=lambda: NOW)
    async with (
        MqttDesk(settings, now=lambda: NOW) as mqtt,
        aiomqtt.Client(mosquitto.host, port=mosquitto.port) as app,
    ):
        await app.subscribe("console-desk/prompt/CP1", qos=1)
        desk = ConsoleDesk(
            channels=[MqttChannel(mqtt)],
            hub=hub,
            now=lambda: NOW,
            run_dir=lambda _: tmp_path,
            echo=lambda _: None,
        )
        asking = asyncio.create_task(desk.operator("CP1").ask("Plug in", yes_no=False))
        payloads: list[bytes] = []

        async def read() -> None:
            async for message in app.messages:
                assert isinstance(message.payload, bytes)
                payloads.append(message.payload)
                if not message.payload:
                    return  # the retained prompt was cleared

        reader = asyncio.create_task(read())
        await _until(lambda: bool(payloads))  # the operator's app has the prompt
        assert json.loads(payloads[0])["id"] == "CP1-1"
        assert hub.answer("CP1-1", True, where="lab tablet")
        assert await asyncio.wait_for(asking, 10) is True
        await asyncio.wait_for(reader, 10)
    assert payloads[-1] == b""
    assert [(a["by"], a["where"]) for a in _recorded(tmp_path)] == [("browser", "lab tablet")]
