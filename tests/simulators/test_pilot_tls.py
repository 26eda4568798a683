"""mqtts:// links: TLS to a broker with a self-signed certificate the test trusts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import main
from simulators.pilot import LinkError, MqttSettings, MqttStationEnd, MqttVehicleEnd
from tests.conftest import Broker
from tests.simulators.pilot_helpers import offer_a, private_broker, within
from tests.tls_helpers import self_signed


@pytest.fixture
def tls_broker(mosquitto: Broker, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``(mqtts URL, CA file)`` of a TLS-only broker of this test's own."""
    cert, key = self_signed(tmp_path, common_name="ocpp-harness test broker")
    with private_broker(tmp_path, f"certfile {cert}", f"keyfile {key}") as (port, _):
        yield f"mqtts://127.0.0.1:{port}", cert


async def test_ends_exchange_an_offer_over_tls(tls_broker: tuple[str, Path]) -> None:
    url, ca = tls_broker
    settings = MqttSettings.from_url(url, ca_file=ca)
    async with (
        MqttStationEnd(settings, station_id="CP1", evse_id=1) as station,
        MqttVehicleEnd(settings, station_id="CP1", evse_id=1) as ev,
    ):
        await station.send_offer(offer_a(16.0))
        assert await within(ev.receive(), "the offer over TLS") == offer_a(16.0)


async def test_an_untrusted_broker_certificate_fails_the_connection(
    tls_broker: tuple[str, Path],
) -> None:
    url, _ = tls_broker
    with pytest.raises(LinkError, match="cannot connect to the MQTT broker at mqtts://"):
        async with MqttVehicleEnd(MqttSettings.from_url(url), station_id="CP1", evse_id=1):
            pass


def test_a_missing_ca_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ca_file is only used with TLS"):
        MqttSettings.from_url("mqtt://127.0.0.1", ca_file=tmp_path / "ca.pem")
    code = main(
        [
            "vehicle",
            "--mqtt",
            "mqtts://127.0.0.1:1",
            "--station",
            "CP1",
            "--evse",
            "1",
            "--archetype",
            "bev_3ph_16a",
            "--ca-file",
            str(tmp_path / "nowhere.pem"),
        ]
    )
    assert code == 2


async def test_an_unreadable_ca_file_is_a_link_error(tmp_path: Path) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate", encoding="utf-8")
    settings = MqttSettings.from_url("mqtts://127.0.0.1:1", ca_file=garbage)
    with pytest.raises(LinkError, match=f"TLS: cannot load CA file {garbage}"):
        async with MqttVehicleEnd(settings, station_id="CP1", evse_id=1):
            pass
