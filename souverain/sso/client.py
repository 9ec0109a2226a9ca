"""The provider as Authlib sees it: discovery from the issuer, the code flow with PKCE (S256), ID token checks.

One Authlib client per issuer, created on first use (tests start a provider on a fresh port). Authlib keeps
state, nonce and the PKCE verifier in the Django session between the redirect and the callback, checks the
state, then the ID token's RS256 signature against the provider's JWKS, its issuer, audience, expiry and nonce.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from authlib.integrations.django_client import OAuth
from django.conf import settings

from . import config


@lru_cache(maxsize=4)
def _client(issuer: str, client_id: str, client_secret: str, scopes: str) -> Any:
    oauth = OAuth()
    return oauth.register(
        name="provider", client_id=client_id, client_secret=client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": scopes, "code_challenge_method": "S256",
                       "token_endpoint_auth_method": "client_secret_post", "timeout": 10})


def client() -> Any:
    return _client(config.issuer(), settings.SOUVERAIN_OIDC_CLIENT_ID, settings.SOUVERAIN_OIDC_CLIENT_SECRET,
                   getattr(settings, "SOUVERAIN_OIDC_SCOPES", "openid email profile groups"))


def metadata() -> dict[str, Any]:
    return client().load_server_metadata()
