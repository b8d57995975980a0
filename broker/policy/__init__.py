"""The policy decision point (PDP): pure functions of documents, a request and an instant."""

from broker.policy.compile import CompiledPolicy, compile_policy, policy_lines
from broker.policy.engine import DecisionPoint
from broker.policy.types import (
    ACTIONS,
    REASON_CODES,
    AccessRequest,
    Decision,
    EmergencyView,
    GeoPoint,
    Principal,
    Window,
)

__all__ = [
    "ACTIONS",
    "REASON_CODES",
    "AccessRequest",
    "CompiledPolicy",
    "Decision",
    "DecisionPoint",
    "EmergencyView",
    "GeoPoint",
    "Principal",
    "Window",
    "compile_policy",
    "policy_lines",
]
