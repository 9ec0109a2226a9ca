"""The API accepts the provider's access tokens: ``Authorization: Bearer <JWT>``.

Checked here, without calling the provider per request: the JWS signature against the provider's JWKS
(``jwks_uri`` from discovery; fetched once, fetched again when a token names an unknown key, so a key rotation
needs no restart), RS256/ES256/PS256 only, ``iss`` equal to the configured issuer, ``aud`` containing
``SOUVERAIN_OIDC_API_AUDIENCE`` (default: the client id), ``exp`` in the future (and ``nbf``/``iat`` sane, 30 s of
leeway). The caller is then mapped by the same rules as a portal login, from the token's own claims (``sub``,
``email``, ``groups``: the provider must put them in the access token), so a user whose groups changed at the
provider gets the new role on the next token. Opaque tokens and Souverain's own ``sv_`` tokens are left to
``core.auth.ApiTokenAuthentication`` (the class after this one).
"""

from __future__ import annotations

import threading
from typing import Any

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from . import client, config, services

ALGORITHMS = ["RS256", "ES256", "PS256"]
_keys: dict[str, KeySet] = {}
_lock = threading.Lock()


def _key_set(refresh: bool = False) -> KeySet:
    issuer = config.issuer()
    with _lock:
        if refresh or issuer not in _keys:
            uri = client.metadata()["jwks_uri"]
            response = requests.get(uri, timeout=10)
            response.raise_for_status()
            _keys[issuer] = KeySet.import_key_set(response.json())
        return _keys[issuer]


def audience() -> str:
    return getattr(settings, "SOUVERAIN_OIDC_API_AUDIENCE", "") or settings.SOUVERAIN_OIDC_CLIENT_ID


def verify(raw: str) -> dict[str, Any]:
    """The token's claims, or JoseError/ValueError saying why not."""
    try:
        token = jwt.decode(raw, _key_set(), algorithms=ALGORITHMS)
    except (JoseError, ValueError):
        token = jwt.decode(raw, _key_set(refresh=True), algorithms=ALGORITHMS)  # a rotated key
    jwt.JWTClaimsRegistry(leeway=30, iss={"essential": True, "value": config.issuer()},
                          aud={"essential": True, "value": audience()},
                          exp={"essential": True}, sub={"essential": True}).validate(token.claims)
    return dict(token.claims)


class ProviderTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[Any, dict[str, Any]] | None:
        header = get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() != b"bearer" or header[1].count(b".") != 2 or not config.enabled():
            return None
        try:
            claims = verify(header[1].decode())
        except (JoseError, ValueError, UnicodeError) as error:
            raise exceptions.AuthenticationFailed(
                _("Invalid provider access token: %(reason)s") % {"reason": getattr(error, "description", "")
                                                                   or error.__class__.__name__}) from None
        except requests.RequestException:
            raise exceptions.AuthenticationFailed(_("The identity provider's keys cannot be fetched.")) from None
        decision = services.resolve(claims)
        if decision.refusal:
            services.refuse(claims, decision, source="api")
            raise exceptions.PermissionDenied(
                _("Your identity provider's account maps to no tenant or role in Souverain."))
        return services.provision(claims, decision, source="api"), claims

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'
