"""Where the shared contract examples and the repo's own documents live."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EXAMPLE = SHARED / "examples" / "new-canaan"
EXAMPLE_INVENTORY = EXAMPLE / "inventory.yaml"
EXAMPLE_MOUS = EXAMPLE / "mou"
MODEL = REPO / "policies" / "model.conf"
