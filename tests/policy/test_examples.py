"""The shared contract examples: requests.jsonl must produce answers.jsonl exactly."""

import json

import pytest

from broker.cli.decide import decide_lines, load_pdp
from tests.paths import EXAMPLE, EXAMPLE_INVENTORY, EXAMPLE_MOUS

REQUESTS = (EXAMPLE / "requests.jsonl").read_text().splitlines()
ANSWERS = [json.loads(line) for line in (EXAMPLE / "answers.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def example_pdp():
    return load_pdp(str(EXAMPLE_INVENTORY), [str(EXAMPLE_MOUS)])


@pytest.mark.parametrize("n", range(len(REQUESTS)))
def test_example_answer(example_pdp, n):
    (got,) = list(decide_lines(example_pdp, [REQUESTS[n]]))
    assert json.loads(got) == ANSWERS[n]


def test_example_counts_match():
    assert len(REQUESTS) == len(ANSWERS) > 20
