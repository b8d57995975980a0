"""Identity: bearer JWTs verified against each trusted issuer's JWKS, mapped to a :class:`Principal`."""

from broker.identity.config import DevIssuerConfig, IdentityConfig, IssuerConfig
from broker.identity.devissuer import DevIssuer
from broker.identity.verifier import TokenVerifier

__all__ = ["DevIssuer", "DevIssuerConfig", "IdentityConfig", "IssuerConfig", "TokenVerifier"]
