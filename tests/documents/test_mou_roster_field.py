"""The MOU's optional ``roster`` (contract section 2.1): validated like every field, errors as FILE:LINE."""

from __future__ import annotations

from pathlib import Path

from tests.documents.test_mou_validation import GOOD, errors

N = GOOD.count("\n")  # the roster lines come after the good document's last line


def test_a_valid_roster(tmp_path: Path) -> None:
    assert errors(tmp_path, GOOD + "roster:\n  agencies: [ncpd]\n  countersign: true\n") == []


def test_roster_errors_at_their_lines(tmp_path: Path) -> None:
    text = GOOD + "roster:\n  agencies:\n    - ncps\n    - ncpd\n    - ncpd\n"
    assert errors(tmp_path, text) == [
        (N + 3, "roster.agencies.0", "agency 'ncps' is not in parties.recipients"),
        (N + 5, "roster.agencies.2", "duplicate agency 'ncpd'"),
    ]
    got = errors(tmp_path, GOOD + "roster:\n  agencies: []\n  sign: yes\n")
    assert [(line, path) for line, path, _ in got] == [(N + 2, "roster.agencies"), (N + 3, "roster.sign")]
    assert got[1][2] == "unknown key 'sign'"
