"""Helpers for session tests: fixed times, paired sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from harness.session import OcppSession, Role
from harness.versions import OcppVersion

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """``seconds`` after T0."""
    return T0 + timedelta(seconds=seconds)


def make_session(version: OcppVersion, role: Role = Role.CSMS, **options: object) -> OcppSession:
    ids = (f"id-{n}" for n in range(1, 10_000))
    return OcppSession(
        version=version,
        role=role,
        station_id="CS1",
        message_ids=ids,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture(params=list(OcppVersion), ids=lambda v: f"v{v}")
def version(request: pytest.FixtureRequest) -> OcppVersion:
    return request.param  # type: ignore[no-any-return]
