"""``python -m harness`` — the same as the ``ocpp-harness`` console script."""

from harness.cli import main

raise SystemExit(main())
