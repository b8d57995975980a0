"""Typed dependency aliases, in one place (as in the FastAPI full-stack template's ``deps.py``).

The functions are ``async`` on purpose: they do no I/O, and FastAPI would run a sync dependency in the
thread pool (a hand-off per dependency per request, which cost the proxy half its throughput).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from broker.api.client import client_address
from broker.api.refusals import refused
from broker.api.services import Services
from broker.audit.scope import AuditScope
from broker.errors import AuthenticationError, PermissionDenied
from broker.policy import Principal
from broker.store import Store


async def get_services(request: Request) -> Services:
    return request.app.state.services


async def get_store(services: ServicesDep) -> Store:
    return services.store


async def get_principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if principal is None:  # only reachable from a route opened without authentication
        raise AuthenticationError("no bearer token")
    return principal


async def get_client(request: Request, services: ServicesDep) -> str | None:
    """The client address for the audit record; X-Forwarded-For only from a configured proxy."""
    return client_address(request, services.settings.server.trusted_proxies)


def is_auditor(principal: Principal, services: Services) -> bool:
    """An auditor role, from an agency whose auditors count (settings ``audit.roles`` / ``audit.agencies``)."""
    cfg = services.settings.audit
    return not principal.roles.isdisjoint(cfg.roles) and (cfg.agencies is None or principal.agency in cfg.agencies)


def is_oversight_auditor(principal: Principal, services: Services) -> bool:
    """An auditor whom settings ``audit.oversight`` name (by agency, and role if given): reads every record."""
    cfg = services.settings.audit
    if not is_auditor(principal, services):
        return False
    return any(
        entry.agency == principal.agency and not principal.roles.isdisjoint(entry.roles or cfg.roles)
        for entry in cfg.oversight
    )


def audit_scope(principal: Principal, services: Services) -> AuditScope | None:
    """The audit records ``principal`` (an auditor) reads: their agency's (:mod:`broker.audit.scope`), or every
    record (None) for an oversight auditor. Secure by default: no ``audit.oversight``, no one reads them all."""
    if is_oversight_auditor(principal, services):
        return None
    catalog = services.catalog
    sites = frozenset(catalog.index.sites_by_owner.get(principal.agency, ()))
    return AuditScope.of(
        principal.agency,
        (c.id for c in catalog.inventory.cameras if c.site in sites),
        (m.mou for m in catalog.visible_mous(principal.agency)),
    )


def is_operator(principal: Principal, services: Services) -> bool:
    """An operator role, from an agency whose operators count (settings ``admin.operator_roles`` / ``_agencies``)."""
    cfg = services.settings.admin
    agencies = cfg.operator_agencies
    return not principal.roles.isdisjoint(cfg.operator_roles) and (agencies is None or principal.agency in agencies)


async def get_operator(principal: PrincipalDep, services: ServicesDep, request: Request) -> Principal:
    if not is_operator(principal, services):
        exc = PermissionDenied(
            "reloading the documents, camera systems and unclassified cameras are for operators (school IT)",
            reason="not_an_operator",
        )
        await refused(request, "access.refused", exc, principal=principal)  # CJIS 5.4.1.1, counted per minute
        raise exc
    return principal


async def get_auditor(principal: PrincipalDep, services: ServicesDep, request: Request) -> Principal:
    if not is_auditor(principal, services):
        exc = PermissionDenied("the audit log is for auditors", reason="not_an_auditor")
        await refused(request, "access.refused", exc, principal=principal)  # CJIS 5.4.1.1, counted per minute
        raise exc
    return principal


ServicesDep = Annotated[Services, Depends(get_services)]
StoreDep = Annotated[Store, Depends(get_store)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
ClientDep = Annotated[str | None, Depends(get_client)]
AuditorDep = Annotated[Principal, Depends(get_auditor)]
OperatorDep = Annotated[Principal, Depends(get_operator)]
