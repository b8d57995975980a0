"""Where the contract examples (kept in the repository) and the repo's own documents live."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "tests" / "data" / "new-canaan"  # the contract's examples (policies/CONTRACT.md)
EXAMPLE_INVENTORY = EXAMPLE / "inventory.yaml"
EXAMPLE_MOUS = EXAMPLE / "mou"
MODEL = REPO / "policies" / "model.conf"
