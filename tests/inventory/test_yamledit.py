"""Textual edits of the inventory: scalars that read back as themselves, keys set and removed in place."""

from __future__ import annotations

import random

import pytest
import yaml

from broker.documents.yamlsrc import load_located
from broker.inventory.yamledit import EditError, InventoryText, quoted, scalar

POOL = "aZ09 :#,[]{}&*!|>'\"%@`-?\\\t\n\r\x00\x07\x1b\x7f\x85\xa0\u2028\u2029\ufeff\ud7ff\ue000é📷~.yesnull"


@pytest.mark.parametrize("seed", range(20))
def test_random_text_reads_back_exactly_through_both_loaders(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        text = "".join(rng.choice(POOL) for _ in range(rng.randint(0, 12)))
        for rendered in (quoted(text), scalar(text)):
            doc = f"k: {{v: {rendered}}}\n"
            assert yaml.safe_load(doc) == {"k": {"v": text}}, (text, rendered)
            assert load_located(doc).data == {"k": {"v": text}}, (text, rendered)


def test_plain_only_when_it_stays_a_string() -> None:
    assert scalar("Front door") == "Front door"
    assert [scalar(v) for v in ("yes", "1", "1.5", "null", "~", "", " a", "a: b", "#x")] == [
        '"yes"', '"1"', '"1.5"', '"null"', '"~"', '""', '" a"', '"a: b"', '"#x"']  # fmt: skip


def test_keys_set_and_removed_in_flow_and_block_mappings() -> None:
    text = "cameras:\n  - {id: a, name: A}  # note\n  - id: b\n    name: B\n"
    doc = InventoryText(text)
    doc.set_key(0, "zone", "x")
    doc.set_key(1, "zone", "y")
    edited = doc.result()
    assert edited == "cameras:\n  - {id: a, name: A, zone: x}  # note\n  - id: b\n    name: B\n    zone: y\n"
    doc = InventoryText(edited)
    doc.set_key(0, "zone", "z")  # an existing key: its value is replaced
    doc.remove_key(1, "zone")
    assert doc.result() == "cameras:\n  - {id: a, name: A, zone: z}  # note\n  - id: b\n    name: B\n"
    doc = InventoryText("cameras:\n  - {zone: x, id: a}\n  - zone: y\n    id: b\n")
    doc.remove_key(0, "zone")  # the first key: up to the next one
    doc.remove_key(1, "zone")
    doc.remove_key(1, "absent")
    assert doc.result() == "cameras:\n  - {id: a}\n  - id: b\n"


def test_refusals() -> None:
    with pytest.raises(EditError, match="not a mapping"):
        InventoryText("- a\n")
    with pytest.raises(EditError, match="cameras is not a list"):
        InventoryText("cameras: 3\n").append_cameras(["{id: a}"])
    with pytest.raises(EditError, match="is not a mapping"):
        InventoryText("cameras: [3]\n").set_key(0, "k", "v")
