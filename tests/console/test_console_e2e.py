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
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from harness.console import ANSWERS_FILE
from harness.results import Phase, Quantity, RunStore
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


def _stored_points(run: Path, quantity: Quantity, phase: Phase | None) -> set[tuple[float, float]]:
    """(time, value) of one series the run stored for its case (from the station's
    MeterValues, or the limit the harness set)."""
    stored = RunStore.open(run)
    (key,) = stored.trace_keys()
    return {
        (round(sample.t.timestamp(), 3), sample.value)
        for series in stored.series(key)
        if series.quantity is quantity and series.phase is phase
        for sample in series.samples
        if sample.value is not None
    }


async def _terminal_run(out: Path) -> str:
    """The same run with its prompts answered on serve's terminal; serve's output."""
    serve = await _serve(out, "--no-console", stdin=b"\n" * 8)
    stations: list[Child] = []
    try:
        stations = await _stations(serve)
        assert await serve.wait(timeout_s=240) == 0, serve.output
        for station in stations:
            assert await station.wait(timeout_s=30) == 0, station.output
    finally:
        for child in (serve, *stations):
            await child.stop()
    return serve.output


@pytest.fixture
def screenshots() -> Path | None:
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if not folder:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder)


@pytest.fixture
async def background() -> AsyncIterator[list[asyncio.Task[Any]]]:
    """Tasks the test runs alongside; cancelled (their processes stopped) if still running
    when the test ends early."""
    tasks: list[asyncio.Task[Any]] = []
    yield tasks
    for task in tasks:
        if not task.done():
            task.cancel()
        with contextlib.suppress(BaseException):
            await task


@pytest.mark.long
async def test_console_in_chromium_equals_terminal_run(
    tmp_path: Path, screenshots: Path | None, background: list[asyncio.Task[Any]]
) -> None:
    from playwright.async_api import async_playwright

    # The run answered on the terminal goes on meanwhile (the two are independent: own
    # serve, own stations, own ports); its results are compared at the end.
    out2 = tmp_path / "terminal"
    terminal = asyncio.create_task(_terminal_run(out2))
    background.append(terminal)
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
                    code = await serve.wait(timeout_s=240)
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
                limit_series: list[list[float]] = await page.evaluate(
                    "window.ocppConsole.state.stations['LAB-A1'].evses['1'].series.limit"
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
    # The plot's points are the station's meter values as the run stored them for the case
    # (Current.Import L1), and the limits the harness set: every one is drawn, at its time,
    # with its value (the page also has those that came after the case ended).
    shown = {(round(t, 3), v) for t, v in series}
    stored = _stored_points(browser_runs["LAB-A1"], Quantity.CURRENT_IMPORT, Phase.L1)
    assert len(stored) >= 5
    assert stored <= shown, sorted(stored - shown)
    assert drawn == len(series)
    assert max(v for _, v in stored) >= 6.0  # the vehicle charged: not a flat line of zeros
    limits = _stored_points(browser_runs["LAB-A1"], Quantity.LIMIT, None)
    assert {v for _, v in limits} >= {16.0, 10.0, 6.0}
    assert limits <= {(round(t, 3), v) for t, v in limit_series}

    # --- the same run answered on the terminal (it ran meanwhile) ----------------------
    serve2_output = await asyncio.wait_for(terminal, 300)
    terminal_runs = _runs(out2)
    assert "Console:" not in serve2_output
    for sid in STATIONS:
        assert [a["by"] for a in _answers(terminal_runs[sid])] == ["terminal", "terminal"]
        assert _results(browser_runs[sid]) == _results(terminal_runs[sid])
        assert _results(browser_runs[sid])[0][1] == "PASS"
