"""Declarations rate-limited per principal and per trigger device (``emergencies.rate_limit``).

One person or one device declaring emergency after emergency is not a real emergency but a flood (issue 13: 510
declarations in 6.4 s; 600 distinct presses of one panic button in 20 s), and every declaration opens cameras.
The count comes from the emergencies table itself, so it holds across every broker replica and restarts: at
most ``per_principal`` declarations by one ``(sub, agency)`` in the last ``window_seconds``, and at most
``per_device`` by one trigger device (its declarer is ``trigger:<source>/<device>``:
:func:`broker.admin.triggers.source_principal`). Beyond, 429 ``rate_limited`` with ``Retry-After``: when the
oldest declaration in the window leaves it. Two declarations racing on two replicas may both pass the last
free place (the check reads, it does not lock): the limit bounds a flood, it is not an exact quota.

The refusal is counted on the audit chain (``emergency.refused`` / ``trigger.refused`` with reason
``rate_limited``), aggregated per principal and minute by :mod:`broker.audit.refusals`, never a record each.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from broker.errors import RateLimited
from broker.policy import Principal
from broker.settings import DeclarationRateSettings
from broker.store.emergencies import EmergencyRepository

TRIGGER_ROLE = "trigger"  # the role of a trigger device's principal (broker.admin.triggers.source_principal)


def is_device(principal: Principal) -> bool:
    return TRIGGER_ROLE in principal.roles and principal.sub.startswith("trigger:")


def check_rate(repo: EmergencyRepository, cfg: DeclarationRateSettings, principal: Principal, now: datetime) -> None:
    """Raise :class:`RateLimited` if ``principal`` has declared its most in the window ending ``now``."""
    device = is_device(principal)
    limit = cfg.per_device if device else cfg.per_principal
    window = timedelta(seconds=cfg.window_seconds)
    recent = repo.declared_since(principal.sub, principal.agency, now - window, limit)
    if len(recent) < limit:
        return
    retry_after = math.ceil((recent[0] + window - now).total_seconds())
    who = "trigger device" if device else "principal"
    raise RateLimited(
        f"this {who} declared {limit} emergencies in the last {cfg.window_seconds} s, the most allowed "
        f"(emergencies.rate_limit.{'per_device' if device else 'per_principal'}); try again in {max(1, retry_after)} s",
        retry_after=retry_after,
        reason="rate_limited",
    )
