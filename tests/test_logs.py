"""Logging configuration: human lines or JSON lines, to the current standard error."""

from __future__ import annotations

import io
import json
import sys

import pytest

from harness.logs import configure_logging, get_logger


def test_json_lines_carry_the_event_and_its_context(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    configure_logging(json_lines=True, level="INFO")
    get_logger("test", station="CP1").info("booted", vendor="ACME")
    record = json.loads(err.getvalue().strip().splitlines()[-1])
    assert record["event"] == "booted"
    assert record["component"] == "test"
    assert record["station"] == "CP1"
    assert record["vendor"] == "ACME"
    assert record["level"] == "info"


def test_events_follow_stderr_after_it_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging(json_lines=True, level="INFO")
    first.close()  # e.g. pytest's capture of an earlier test, or a finished CLI redirection
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    get_logger("test").warning("still logging")
    assert "still logging" in second.getvalue()


def test_level_filters_and_unknown_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    configure_logging(level="WARNING")
    get_logger("test").info("hidden")
    get_logger("test").warning("shown")
    assert "shown" in err.getvalue()
    assert "hidden" not in err.getvalue()
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging(level="LOUD")
