"""Start-up cost: CPU seconds of ``ocpp-harness --help`` and ``ocpp-harness schedule`` (the
OCA TC_066 vector) against ``python -c pass``, each a fresh process, run side by side.

CPU (user + system of the child, from ``getrusage(RUSAGE_CHILDREN)``) rather than wall time,
so a loaded machine changes the figures little. Prints the medians of ``--repeats`` runs and
their ratios to ``python -c pass`` (issue #22 asks ``--help`` <= 5x, ``schedule`` <= 8x).

    python benchmarks/startup.py --repeats 7 --json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.smartcharging.helpers import T0, at, iso, oca_tc066_16  # noqa: E402


def cpu_s(argv: list[str]) -> float:
    """CPU seconds (user + system) one run of ``argv`` took; it must exit 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(argv, check=True, capture_output=True, env=env, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        vector = Path(tmp) / "tc066.json"
        vector.write_text(json.dumps(oca_tc066_16()), encoding="utf-8")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "ocpp-harness --help": [sys.executable, "-m", "harness", "--help"],
            "ocpp-harness schedule (TC_066)": [
                sys.executable,
                "-m",
                "harness",
                "schedule",
                str(vector),
                "--duration",
                "400",
                "--at",
                iso(T0),
                "--transaction-start",
                iso(at(-60)),
            ],
        }
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeats):  # interleaved, so a load change hits all alike
            for name, argv in commands.items():
                samples[name].append(cpu_s(argv))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["python -c pass"]
    result = {
        "repeats": args.repeats,
        "cpu_s": {name: round(value, 3) for name, value in medians.items()},
        "ratio_to_python": {name: round(value / base, 2) for name, value in medians.items()},
    }
    if args.json:
        print(json.dumps(result))
        return
    for name, value in medians.items():
        print(f"{name:>32}: {value:.3f} s CPU  ({value / base:.2f}x python -c pass)")


if __name__ == "__main__":
    main()
