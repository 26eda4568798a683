"""Broker credentials reach the broker: from the URL or given separately."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.pilot import LinkError, MqttSettings, MqttStationEnd, MqttVehicleEnd
from tests.conftest import Broker
from tests.simulators.pilot_helpers import offer_a, private_broker, within


@pytest.fixture
def auth_broker(mosquitto: Broker, tmp_path: Path) -> Iterator[int]:
    """Port of a broker of this test's own that only admits ``lab`` / ``s3cret:pw``."""
    tool = shutil.which("mosquitto_passwd")
    assert tool is not None, "mosquitto_passwd (part of the mosquitto package) is missing"
    passwords = tmp_path / "passwd"
    subprocess.run([tool, "-b", "-c", str(passwords), "lab", "s3cret:pw"], check=True)
    with private_broker(tmp_path, f"password_file {passwords}", anonymous=False) as (port, _):
        yield port


async def test_credentials_in_the_url_and_as_arguments_are_accepted(auth_broker: int) -> None:
    in_url = MqttSettings.from_url(f"mqtt://lab:s3cret%3Apw@127.0.0.1:{auth_broker}")
    separate = MqttSettings.from_url(
        f"mqtt://127.0.0.1:{auth_broker}", username="lab", password="s3cret:pw"
    )
    async with (
        MqttStationEnd(in_url, station_id="CP1", evse_id=1) as station,
        MqttVehicleEnd(separate, station_id="CP1", evse_id=1) as ev,
    ):
        await station.send_offer(offer_a(10.0))
        assert await within(ev.receive(), "the offer between logged-in clients") == offer_a(10.0)


@pytest.mark.parametrize(
    "credentials", [{}, {"username": "lab", "password": "wrong"}], ids=["none", "wrong"]
)
async def test_missing_or_wrong_credentials_are_a_link_error(
    auth_broker: int, credentials: dict[str, str]
) -> None:
    settings = MqttSettings.from_url(f"mqtt://127.0.0.1:{auth_broker}", **credentials)
    with pytest.raises(LinkError, match="cannot connect to the MQTT broker at") as failed:
        async with MqttVehicleEnd(settings, station_id="CP1", evse_id=1):
            pass
    assert f"mqtt://127.0.0.1:{auth_broker}" in str(failed.value)
    assert "wrong" not in str(failed.value), "a password must not appear in an error"
