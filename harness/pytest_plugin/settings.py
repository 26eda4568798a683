"""The plugin's command-line and ini options, read once per session and checked up front.

Every option has an ini twin (``[tool.pytest.ini_options]`` of the manufacturer's project);
the command line wins. Bad values stop pytest before collection with a
:class:`pytest.UsageError` that names the option and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest

__all__ = ["HarnessSettings", "TargetKind", "add_options", "parse_target", "read_settings"]

_ADDRESS = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]*):(\d{1,5})$")


class TargetKind(StrEnum):
    """What ``run_case`` / ``run_suite`` run against."""

    SIM = "sim"
    """The built-in simulated station and vehicle, in process, on virtual time."""
    LISTEN = "listen"
    """A real station (the firmware under test) connecting to the harness CSMS."""


@dataclass(frozen=True, slots=True)
class HarnessSettings:
    """The session's options, resolved (paths absolute)."""

    target: TargetKind = TargetKind.SIM
    host: str = "127.0.0.1"
    """Where the harness CSMS listens (``listen``; also for the ``harness_csms`` fixture)."""
    port: int = 0
    """``0``: a free port, read it from ``harness_csms.port``."""
    capabilities: Path | None = None
    params: tuple[str, ...] = ()
    """``[CASE_ID:]NAME=VALUE`` overrides for every run of the session."""
    scenarios: tuple[Path, ...] = ()
    """Folders or files searched for case ids besides the built-in library."""
    runs_dir: Path | None = None
    """Where run folders go; ``None``: under each test's ``tmp_path``."""
    strict: bool = False
    speed: float = 1.0
    """Clock speed of the harness CSMS for a real station (1: real time)."""
    connect_timeout_s: float = 120.0
    """How long a run waits for the real station to connect (wall seconds at speed 1)."""


def add_options(parser: pytest.Parser) -> None:
    """Register the ``--ocpp-*`` options and their ini twins."""
    group = parser.getgroup("ocpp-harness", "OCPP conformance runs (ocpp-harness)")
    specs: list[tuple[str, str, str, str | None]] = [
        (
            "target",
            "string",
            "sim (built-in simulated station, virtual time) or listen HOST:PORT (a real "
            "station connects to the harness CSMS); write --ocpp-target=listen:HOST:PORT or "
            "quote it: --ocpp-target 'listen HOST:PORT'. Default: sim.",
            None,
        ),
        ("capabilities", "string", "the DUT's capability declaration (YAML).", None),
        ("scenarios", "paths", "folders/files searched for case ids besides the library.", None),
        ("runs_dir", "string", "keep run folders here (default: each test's tmp_path).", None),
        ("speed", "string", "clock speed of the harness CSMS for a real station.", None),
        ("connect_timeout", "string", "seconds to wait for a real station to connect.", None),
    ]
    for name, kind, help_text, default in specs:
        flag = "--ocpp-" + name.replace("_", "-")
        group.addoption(flag, dest=f"ocpp_{name}", default=None, help=help_text)
        parser.addini(f"ocpp_{name}", help_text, type=kind, default=default)  # type: ignore[arg-type]
    group.addoption(
        "--ocpp-param",
        dest="ocpp_params",
        action="append",
        default=[],
        help="[CASE_ID:]NAME=VALUE parameter override (repeatable).",
    )
    parser.addini("ocpp_params", "[CASE_ID:]NAME=VALUE parameter overrides.", type="linelist")
    group.addoption(
        "--ocpp-strict",
        dest="ocpp_strict",
        action="store_true",
        default=None,
        help="count NON_STRICT (a broken SHOULD) as a failure.",
    )
    parser.addini("ocpp_strict", "count NON_STRICT as a failure.", type="bool", default=False)


def parse_target(text: str) -> tuple[TargetKind, str, int]:
    """``sim`` or ``listen HOST:PORT`` (also ``listen:HOST:PORT``, ``listen=HOST:PORT``)."""
    value = text.strip()
    if value == "sim":
        return TargetKind.SIM, "127.0.0.1", 0
    for prefix in ("listen=", "listen:", "listen "):
        if value.startswith(prefix):
            address = value[len(prefix) :].strip()
            found = _ADDRESS.fullmatch(address)
            if found is None or int(found.group(2)) > 65535:
                break
            host = found.group(1).strip("[]") or "127.0.0.1"
            return TargetKind.LISTEN, host, int(found.group(2))
    raise pytest.UsageError(
        f"--ocpp-target / ocpp_target: expected sim or listen HOST:PORT "
        f"(e.g. listen:127.0.0.1:9000), got {text!r}"
    )


def _value(config: pytest.Config, name: str) -> str | None:
    given = config.getoption(f"ocpp_{name}")
    if given is not None:
        return str(given)
    ini = config.getini(f"ocpp_{name}")
    return str(ini) if ini not in (None, "") else None


def _ini_dir(config: pytest.Config) -> Path:
    return Path(config.inipath).parent if config.inipath else Path(config.rootpath)


def _path(config: pytest.Config, name: str) -> Path | None:
    """A path option: relative to the working directory on the command line, to the ini
    file's folder in the ini file."""
    given = config.getoption(f"ocpp_{name}")
    if given is not None:
        return Path(str(given)).resolve()
    ini = config.getini(f"ocpp_{name}")
    if not ini:
        return None
    return (_ini_dir(config) / str(ini)).resolve()


def _positive(config: pytest.Config, name: str, default: float) -> float:
    text = _value(config, name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise pytest.UsageError(
            f"--ocpp-{name.replace('_', '-')} / ocpp_{name}: expected a positive number, "
            f"got {text!r}"
        )
    return value


def read_settings(config: pytest.Config) -> HarnessSettings:
    """The session's settings; :class:`pytest.UsageError` for a bad value or a missing file."""
    kind, host, port = parse_target(_value(config, "target") or "sim")
    capabilities = _path(config, "capabilities")
    if capabilities is not None and not capabilities.is_file():
        raise pytest.UsageError(
            f"--ocpp-capabilities / ocpp_capabilities: no such file {capabilities}"
        )
    scenarios: list[Path] = []
    cli_scenarios = config.getoption("ocpp_scenarios")
    if cli_scenarios is not None:
        scenarios.append(Path(str(cli_scenarios)).resolve())
    scenarios += [Path(str(p)).resolve() for p in config.getini("ocpp_scenarios") or ()]
    for path in scenarios:
        if not path.exists():
            raise pytest.UsageError(f"--ocpp-scenarios / ocpp_scenarios: no such path {path}")
    strict_flag = config.getoption("ocpp_strict")
    return HarnessSettings(
        target=kind,
        host=host,
        port=port,
        capabilities=capabilities,
        params=(
            *(str(p) for p in config.getini("ocpp_params") or ()),
            *(str(p) for p in config.getoption("ocpp_params") or ()),
        ),
        scenarios=tuple(scenarios),
        runs_dir=_path(config, "runs_dir"),
        strict=bool(strict_flag) if strict_flag is not None else bool(config.getini("ocpp_strict")),
        speed=_positive(config, "speed", 1.0),
        connect_timeout_s=_positive(config, "connect_timeout", 120.0),
    )
