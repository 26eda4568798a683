"""The lab console in a real headless Chromium (the system's, driven by playwright; nothing is
downloaded): two simulated stations connect to ``serve``, the page shows both, their
plug-in / unplug prompts are answered by clicking, the plot's points are the station's meter
values, the verdicts appear — and the results equal those of the same run answered on the
terminal.

Set ``CONSOLE_SCREENSHOTS=DIR`` to keep screenshots of the page during the run (the README's
come from there).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from harness.console import ANSWERS_FILE
from harness.results import RunStore
from harness.runner.observations import meter_samples
from tests.lab.processes import Child

REPO = Path(__file__).resolve().parents[2]
CASE = REPO / "scenarios" / "vehicle-programme" / "VP-01.yaml"
CAPABILITIES = REPO / "tests" / "lab" / "sim-station.yaml"
STATIONS = ("LAB-A1", "LAB-B1")
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# VP-01 made short: 2 s per step, 3 s to hold, one MeterValues a second.
PARAMS = ("step_s=2", "hold_s=3", "meter_sample_interval=1")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
)


async def _serve(out: Path, *extra: str, stdin: bytes | None = None) -> Child:
    args = ["serve", str(CASE), "--port", "0", "--capabilities", str(CAPABILITIES)]
    args += ["--stations", "2", "--out", str(out)]
    for p in PARAMS:
        args += ["--param", p]
    return await Child.start(*args, *extra, stdin=stdin)


async def _stations(serve: Child) -> list[Child]:
    url = (await serve.wait_for_line(r"at (ws://\S+)/<station-id>", timeout_s=30)).group(1)
    common = ("--csms", url, "--no-auto-start", "--meter-interval", "1", "--stagger", "0")
    return list(
        await asyncio.gather(
            *(
                Child.start("simulate", *common, "--id-prefix", sid[:-1], "--ocpp", "1.6")
                for sid in STATIONS
            )
        )
    )


def _runs(out: Path) -> dict[str, Path]:
    """Each station's run folder (``<run id>-<station id>``)."""
    return {"-".join(run.name.rsplit("-", 2)[-2:]): run for run in out.iterdir()}


def _results(run: Path) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Each case's id, verdict, and its checks' requirement and verdict, in order."""
    return [
        (
            r.info.case_id,
            r.verdict.value,
            [(c.requirement.id, c.verdict.value) for c in r.checks],
        )
        for r in RunStore.open(run).results()
    ]


def _answers(run: Path) -> list[dict[str, Any]]:
    lines = (run / ANSWERS_FILE).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _trace_points(run: Path) -> set[tuple[float, float]]:
    """(time, value) of every Current.Import L1 sample in the station's MeterValues, as the
    harness reads them."""
    stored = RunStore.open(run)
    found: set[tuple[float, float]] = set()
    for key in stored.trace_keys():
        for record in stored.trace(key):
            if record.get("dir") != "in" or record.get("action") != "MeterValues":
                continue
            payload = json.loads(record["raw"])[3]
            at = datetime.fromisoformat(record["t"].replace("Z", "+00:00"))
            evse = int(payload.get("connectorId", payload.get("evseId", 0)))
            for s in meter_samples(payload["meterValue"], evse=evse, at=at, frame=None):
                if s.evse == 1 and s.measurand == "Current.Import" and s.phase == "L1":
                    found.add((round(s.t.timestamp(), 3), s.value))
    return found


@pytest.fixture
def screenshots() -> Path | None:
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if not folder:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder)


async def test_console_in_chromium_equals_terminal_run(
    tmp_path: Path, screenshots: Path | None
) -> None:
    from playwright.async_api import async_playwright

    # --- the run answered in the browser --------------------------------------------
    out = tmp_path / "browser"
    serve = await _serve(out, "--console-port", "0")
    stations: list[Child] = []
    clicked: list[str] = []
    try:
        console = (await serve.wait_for_line(r"^Console: (http://\S+)", timeout_s=30)).group(1)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                await page.goto(console)
                stations = await _stations(serve)
                # The page shows both stations, with what they said in BootNotification.
                for sid in STATIONS:
                    card = page.locator(f"section.station[data-station='{sid}']")
                    await card.locator(".vendor", has_text="ocpp-harness").wait_for(timeout=30_000)
                    assert await card.locator(".model").inner_text() == "SimStation"
                    assert await card.locator(".firmware").inner_text() == "0.1.0"
                    assert await card.locator(".ocpp").inner_text() == "1.6"

                async def click_prompts() -> None:
                    while True:
                        button = page.locator(".prompt button[data-answer='true']").first
                        await button.wait_for(timeout=60_000)
                        prompt = await page.locator(".prompt").first.get_attribute("data-prompt")
                        if screenshots is not None and not clicked:
                            await page.locator("body").screenshot(
                                path=screenshots / "console-prompt.png"
                            )
                        await button.click()
                        clicked.append(str(prompt))
                        await page.locator(f".prompt[data-prompt='{prompt}']").wait_for(
                            state="detached", timeout=30_000
                        )

                clicker = asyncio.create_task(click_prompts())
                try:
                    # Mid-run: the plot draws the station's current as it comes.
                    path = page.locator(
                        "section.station[data-station='LAB-A1'] svg.plot path[data-series='L1']"
                    )
                    await path.wait_for(timeout=60_000)
                    await page.wait_for_function(
                        "document.querySelector(\"section.station[data-station='LAB-A1'] "
                        "path[data-series='limit']\") !== null",
                        timeout=60_000,
                    )
                    if screenshots is not None:
                        await page.wait_for_timeout(4000)  # a few more points for the picture
                        await page.locator("body").screenshot(path=screenshots / "console-run.png")
                    code = await serve.wait(timeout_s=120)
                finally:
                    clicker.cancel()
                    with contextlib.suppress(BaseException):  # its clicks are checked below
                        await clicker
                assert code == 0, serve.output
                # Verdicts appear (the page keeps what it was shown once serve has ended).
                for sid in STATIONS:
                    verdict = page.locator(
                        f"section.station[data-station='{sid}'] li[data-case='VP-01'] .v"
                    )
                    assert await verdict.inner_text() == "PASS"
                series: list[list[float]] = await page.evaluate(
                    "window.ocppConsole.state.stations['LAB-A1'].evses['1'].series.L1"
                )
                drawn = await page.locator(
                    "section.station[data-station='LAB-A1'] circle[data-series='L1']"
                ).count()
                if screenshots is not None:
                    await page.locator("body").screenshot(path=screenshots / "console-done.png")
            finally:
                await browser.close()
        for station in stations:
            assert await station.wait(timeout_s=30) == 0, station.output
    finally:
        for child in (serve, *stations):
            await child.stop()

    browser_runs = _runs(out)
    assert sorted(browser_runs) == sorted(STATIONS)
    # Every prompt was answered by a click, recorded with who and where.
    assert sorted(clicked) == sorted(f"{sid}-{n}" for sid in STATIONS for n in (1, 2))
    for sid, run in browser_runs.items():
        answers = _answers(run)
        assert [(a["id"], a["by"], a["answer"]) for a in answers] == [
            (f"{sid}-1", "browser", True),
            (f"{sid}-2", "browser", True),
        ]
        assert answers[0]["message"] == "Plug the vehicle in at EVSE 1, then confirm."
        assert answers[0]["where"].startswith("127.0.0.1 (Mozilla/5.0")
    # The plot's points are the station's meter values (as the run read them): each one the
    # run recorded in its trace is drawn, at its time, with its value.
    shown = {(round(t, 3), v) for t, v in series}
    traced = _trace_points(browser_runs["LAB-A1"])
    assert len(traced) >= 5
    assert traced <= shown, sorted(traced - shown)
    assert drawn == len(series)
    assert max(v for _, v in traced) >= 6.0  # the vehicle charged: not a flat line of zeros

    # --- the same run answered on the terminal --------------------------------------
    out2 = tmp_path / "terminal"
    serve2 = await _serve(out2, "--no-console", stdin=b"\n" * 8)
    stations2: list[Child] = []
    try:
        stations2 = await _stations(serve2)
        assert await serve2.wait(timeout_s=120) == 0, serve2.output
        for station in stations2:
            assert await station.wait(timeout_s=30) == 0, station.output
    finally:
        for child in (serve2, *stations2):
            await child.stop()
    terminal_runs = _runs(out2)
    assert "Console:" not in serve2.output
    for sid in STATIONS:
        assert [a["by"] for a in _answers(terminal_runs[sid])] == ["terminal", "terminal"]
        assert _results(browser_runs[sid]) == _results(terminal_runs[sid])
        assert _results(browser_runs[sid])[0][1] == "PASS"
