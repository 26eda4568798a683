"""Certificates for the security tests: two independent test CAs, made once per module."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.security import (
    CertificatePair,
    create_ca,
    create_server_certificate,
    create_station_certificate,
)

# Certificates are valid from an hour before this time for 825 days; the TLS library checks
# them against the real clock, so "now" must be close to the real date.
NOW = datetime.now(UTC)
PASSWORD = "Pw-0123456789abcdef-XYZ"  # 23 characters: inside OCPP's 16–40
OTHER_PASSWORD = "Pw-9999999999999999-XYZ"


@dataclass(frozen=True)
class Lab:
    """A test CA with a CSMS certificate and station certificates for CP1 and CP2."""

    folder: Path
    ca: CertificatePair
    server: CertificatePair
    cp1: CertificatePair
    cp2: CertificatePair


def make_lab(folder: Path) -> Lab:
    ca = create_ca(folder, now=NOW, ca_name=f"CA {folder.name}")
    server = create_server_certificate(folder, now=NOW)
    cp1 = create_station_certificate(folder, "CP1", now=NOW, org="ACME CSO")
    cp2 = create_station_certificate(folder, "CP2", now=NOW, org="ACME CSO")
    return Lab(folder, ca, server, cp1, cp2)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return make_lab(tmp_path_factory.mktemp("lab"))


@pytest.fixture(scope="module")
def rogue_lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    """Another CA: same station ids, but the CSMS does not trust it."""
    return make_lab(tmp_path_factory.mktemp("rogue"))
