"""The simulated station does not share the judge's code: nothing under ``simulators/``
names the oracle's package (an import, a lazy import, or a docstring pointing at it)."""

from __future__ import annotations

from pathlib import Path

import simulators

ORACLE = "harness." + "smartcharging"


def test_simulators_never_name_the_oracle() -> None:
    root = Path(simulators.__file__).parent
    files = [p for p in root.rglob("*") if p.is_file() and p.suffix in {".py", ".md", ".yaml"}]
    assert len(files) > 20, f"too few files under {root}: the walk found {len(files)}"
    offenders = [
        f"{path.relative_to(root.parent)}:{n}"
        for path in files
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ORACLE in line
    ]
    assert offenders == [], f"simulators/ must not use {ORACLE}: {offenders}"
