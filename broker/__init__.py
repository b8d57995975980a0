"""camgate: an access-control broker for shared camera feeds governed by MOUs.

Layers, dependencies flowing downward only::

    cli / api ........... entry points (FastAPI app factory, console script)
    enforcement ......... guards and the stream proxy (PEP)
    notify .............. signed webhook notices of emergency transitions (outbox, dispatcher)
    admin ............... emergencies (declare / extend / confirm / end / expire), triggers, positions, reload
    inventory ........... cameras and the adapters of their systems
    identity ............ bearer JWTs against each issuer's JWKS; console sign-in (OIDC + PKCE) and sessions
    audit ............... hash-chained log of decisions and sessions
    store ............... SQLAlchemy Core tables (SQLite, PostgreSQL)
    policy .............. the decision point (PDP): pure, no I/O, clock passed in
    documents ........... inventory and MOU documents (pydantic + YAML line numbers)
    errors, clock, adapterapi, timeutil, gcpause ... shared leaves

Adapters (top-level ``adapters/``) import only :mod:`broker.adapterapi`.
"""

__version__ = "0.1.0"
