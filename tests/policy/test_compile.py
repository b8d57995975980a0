"""The compiled index agrees with casbin on the policy casbin holds; the policy grows with grants only."""

import copy
import itertools

import pytest

from broker.documents.inventory import Inventory
from broker.documents.mou import Mou
from broker.policy import compile_policy
from broker.policy.compile import new_enforcer
from broker.policy.types import ACTIONS
from tests.paths import MODEL
from tests.policy.builders import INVENTORY, MOU


def compiled(inventory=INVENTORY):
    return compile_policy(Inventory.model_validate(inventory), [Mou.model_validate(MOU)], MODEL.read_text())


def test_index_matches_casbin_enforce_on_every_attribute_combination():
    pol = compiled()
    roles = ["officer", "dispatcher", "clerk"]
    for agency, role, site, zone, act in itertools.product(
        ["pd", "sd", "fd"], roles, ["hs", "ms"], ["exterior", "interior", "restricted", "rooftop"], ACTIONS
    ):
        allowed, rule = pol.enforcer.enforce_ex(agency, role, site, zone, act)
        mine = [cg for cg in pol.index.get((agency, site, zone, act), ()) if role in cg.roles]
        assert allowed == bool(mine), (agency, role, site, zone, act)
        if allowed:
            assert (rule[5], rule[6]) == (mine[0].mou, mine[0].grant.id)


def test_policy_size_does_not_grow_with_cameras():
    small = compiled()
    big_inv = copy.deepcopy(INVENTORY)
    big_inv["cameras"] += [
        {"id": f"cam-{i}", "name": f"Camera {i}", "site": "hs", "zone": "interior"} for i in range(2000)
    ]
    big = compiled(big_inv)
    assert big.lines == small.lines
    assert len(big.cameras) == len(small.cameras) + 2000


def test_star_sites_expand_to_the_owners_sites_only():
    pol = compiled()
    sites = {line[2] for line in pol.enforcer.get_policy()}
    assert sites == {"hs", "ms"}


def test_duplicate_lines_reach_casbin_once():
    mou = copy.deepcopy(MOU)
    mou["grants"][0]["roles"] = mou["grants"][0]["roles"] * 2  # a role listed twice: the same lines again
    pol = compile_policy(Inventory.model_validate(INVENTORY), [Mou.model_validate(mou)], MODEL.read_text())
    held = [tuple(line) for line in pol.enforcer.get_policy()]
    assert len(held) == len(set(held)) == pol.lines == compiled().lines


def test_a_line_that_does_not_fit_the_model_is_refused():
    with pytest.raises(ValueError, match="has 3 fields; the model's p has 7"):
        new_enforcer(MODEL.read_text(), [["pd", "officer", "hs"]])
