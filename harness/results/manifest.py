"""The run manifest (``run.json``), the on-disk names, and the store's errors."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness import __version__
from harness.results._json import (
    JsonValue,
    Obj,
    ResultFormatError,
    dump_time,
    freeze_json,
    require_utc,
    thaw_json,
)
from harness.results.devices import DeviceRef
from harness.transport.base import OcppSubprotocol

__all__ = [
    "FORMAT_VERSION",
    "Manifest",
    "RunStorageError",
    "RunStoreError",
    "TornLineWarning",
    "check_name",
    "manifest_bytes",
    "new_run_id",
]

FORMAT_VERSION = 1
"""Version of the on-disk format written by this module (``run.json`` ``format_version``)."""

MANIFEST = "run.json"
RESULTS = "results.jsonl"
OUTSIDE = "outside.jsonl"
"""Frames of the DUT's connections outside any case (boot, between cases, floods)."""
EVENTS = "events.jsonl"
"""What happened at the door and to connections: refusals, failed auth, replacements."""
TRACES = "traces"
SERIES = "series"
_SAFE_NAME = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9._+-]*")


class RunStoreError(Exception):
    """A run folder cannot be written or read as asked; the message names the file (and
    line) and what was expected."""


class RunStorageError(RunStoreError):
    """The run folder cannot be written at all: a full disk, a read-only or missing folder,
    no permission. The message is one line naming the path and the system's reason; the
    command exits with :attr:`harness.exitcodes.ExitCode.STORAGE`. What was written before
    stays readable (a run folder is append-only; ``finished_at`` stays null)."""

    @classmethod
    def of(cls, path: object, exc: OSError) -> RunStorageError:
        """The error for ``exc`` raised while writing ``path``."""
        why = exc.strerror or str(exc) or type(exc).__name__
        return cls(f"cannot write the run folder: {path}: {why}")


class TornLineWarning(UserWarning):
    """The last line of a JSON Lines file is incomplete (the writer died mid-line); it was
    skipped and everything before it was read."""


def new_run_id(*, started_at: datetime) -> str:
    """A run id that sorts by start time: ``20261128T024000Z-3f9a2c`` (random suffix)."""
    stamp = require_utc(started_at, "started_at").strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def check_name(name: str, what: str) -> str:
    if not _SAFE_NAME.fullmatch(name):
        raise RunStoreError(
            f"{what} {name!r} is not filesystem-safe (letters, digits, '._+-', not starting "
            "with '.')"
        )
    return name


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a run is: written to ``run.json`` at creation, completed at :meth:`RunWriter.finish`.

    ``target`` says what the harness talked to (``"sim"``, ``"listen ws://0.0.0.0:9000"``,
    ``"connect wss://csms.example/ocpp"``); ``options`` the run's options (plain JSON);
    ``devices`` the fleet/stations of the run. ``finished_at`` is ``None`` while the run is
    going on -- and stays so when it crashed.
    """

    run_id: str
    started_at: datetime
    target: str
    ocpp_versions: tuple[OcppSubprotocol, ...]
    options: Mapping[str, JsonValue] = field(default_factory=dict, hash=False)
    devices: tuple[DeviceRef, ...] = ()
    harness_version: str = __version__
    finished_at: datetime | None = None

    def __post_init__(self) -> None:
        check_name(self.run_id, "run id")
        object.__setattr__(self, "started_at", require_utc(self.started_at, "started_at"))
        if self.finished_at is not None:
            end = require_utc(self.finished_at, "finished_at")
            if end < self.started_at:
                raise ValueError(f"run {self.run_id}: finished_at is before started_at")
            object.__setattr__(self, "finished_at", end)
        object.__setattr__(self, "ocpp_versions", tuple(self.ocpp_versions))
        object.__setattr__(self, "devices", tuple(self.devices))
        object.__setattr__(self, "options", freeze_json(dict(self.options), "run options"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, ``format_version`` first."""
        return {
            "format_version": FORMAT_VERSION,
            "run_id": self.run_id,
            "harness_version": self.harness_version,
            "started_at": dump_time(self.started_at),
            "finished_at": None if self.finished_at is None else dump_time(self.finished_at),
            "target": self.target,
            "ocpp_versions": [v.value for v in self.ocpp_versions],
            "options": thaw_json(self.options),
            "devices": [d.to_dict() for d in self.devices],
        }

    @classmethod
    def from_dict(cls, value: Any) -> Manifest:
        """Decode :meth:`to_dict`'s form (raises :class:`ResultFormatError`)."""
        obj = Obj(value, "")
        version = obj.integer("format_version")
        if version != FORMAT_VERSION:
            raise ResultFormatError(
                f"format_version: this harness reads format {FORMAT_VERSION}, got {version}"
            )
        versions = []
        for item, path in obj.items("ocpp_versions"):
            try:
                versions.append(OcppSubprotocol(item))
            except ValueError:
                allowed = ", ".join(v.value for v in OcppSubprotocol)
                raise ResultFormatError(
                    f"{path}: expected one of {allowed}; got {item!r}"
                ) from None
        options = obj.json_value("options")
        if not isinstance(options, Mapping):
            raise ResultFormatError("options: expected an object")
        parts = (
            obj.text("run_id"),
            obj.stamp("started_at"),
            obj.text("target"),
            tuple(versions),
            options,
            tuple(DeviceRef.from_obj(d) for d in obj.objs("devices")),
            obj.text("harness_version"),
            obj.opt_stamp("finished_at"),
        )
        try:
            return cls(*parts)
        except (ValueError, RunStoreError) as exc:
            raise ResultFormatError(str(exc)) from None


def manifest_bytes(manifest: Manifest) -> bytes:
    return (json.dumps(manifest.to_dict(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
