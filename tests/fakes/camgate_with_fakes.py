"""``python -m tests.fakes.camgate_with_fakes ARGS…``: the ``camgate`` console script with the test-only
adapters of ``tests/fakes`` in the adapter registry (for broker and CLI processes; run from the repository)."""

from __future__ import annotations

import sys

from broker.cli.main import main
from tests.fakes.discovery import register

if __name__ == "__main__":
    register()
    sys.exit(main())
