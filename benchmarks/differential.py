"""Differential testing at scale (nightly): the oracle and the station engine on many more
seeded random cases than the test run's ten thousand. Prints the figures; exits 1 on the
first disagreement (with the case).

    python3 benchmarks/differential.py --cases 200000 --seed 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from random import Random

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout first

from harness.versions import OcppVersion
from tests.simulators.station.smartcharging.differential import engine_answer, oracle_answer
from tests.simulators.station.smartcharging.test_differential import random_case

SHAPES = (
    (OcppVersion.V16, 1, 3),
    (OcppVersion.V201, 1, 4),
    (OcppVersion.V201, 2, 5),
    (OcppVersion.V21, 2, 4),
    (OcppVersion.V201, 3, 6),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases to compare")
    parser.add_argument("--seed", type=int, default=1, help="first seed")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    for n in range(args.cases):
        version, evses, most = SHAPES[n % len(SHAPES)]
        case = random_case(Random(args.seed + n), version=version, evses=evses, max_profiles=most)
        if oracle_answer(case) != engine_answer(case):
            print(f"seed {args.seed + n}: oracle and engine differ on {case}")
            return 1
    took = time.perf_counter() - began
    print(f"{args.cases} cases agree in {took:.1f} s ({args.cases / took:.0f} cases/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
