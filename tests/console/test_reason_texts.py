"""The console explains a refusal in words (broker/console/static/js/player.js ``REASONS``): one text for every
denial code the decision point gives, and no text for a code it never gives. Five of its seven keys were codes
that do not exist (``restricted``, ``unclassified``, ``no_grant``, ``mou_not_effective``, ``outside_emergency_scope``),
so those refusals showed the bare code with underscores replaced, and ``no_emergency`` said "interior camera" of
every camera, a parking officer's body camera and a parking lot camera included."""

from __future__ import annotations

import re

from broker.console import STATIC
from broker.policy.types import REASON_CODES


def reason_texts() -> dict[str, str]:
    script = (STATIC / "js" / "player.js").read_text(encoding="utf-8")
    block = script[script.index("const REASONS = {") : script.index("};", script.index("const REASONS = {"))]
    return dict(re.findall(r'^\s+(\w+): "([^"]+)",$', block, re.MULTILINE))


def test_every_denial_code_has_its_words_and_no_other_code_does() -> None:
    texts = reason_texts()
    assert set(texts) == set(REASON_CODES) - {"allowed"}


def test_no_text_names_a_zone_the_code_does_not_imply() -> None:
    assert [code for code, text in reason_texts().items() if "interior" in text] == []
