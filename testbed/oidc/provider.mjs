// A real OpenID Connect provider on loopback for Souverain's SSO tests (never for production).
//
// panva's oidc-provider (OpenID Certified) with its built-in login form (devInteractions): the login name is the
// account id and any password is accepted. Configuration from the environment, set by the pytest fixture
// (souverain/sso/tests/provider.py):
//   OP_PORT            port on 127.0.0.1 (the issuer is http://127.0.0.1:<port>)
//   OP_REDIRECT_URIS   comma-separated redirect URIs of the client "souverain"
//   OP_LOGOUT_URIS     comma-separated post-logout redirect URIs
//   OP_USERS           JSON {accountId: {email, name, groups, ...}}
//   OP_CLIENT_SECRET   the client's secret (default souverain-test-secret)
//   OP_API_AUDIENCE    resource indicator of the API: access tokens for it are JWTs (RFC 9068)
// State is in memory and the RS256 key is new at each start. No SIGTERM handler: Node exits on it.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const PORT = Number(process.env.OP_PORT || 9010);
const ISSUER = `http://127.0.0.1:${PORT}`;
const list = (name, fallback) => (process.env[name] || fallback).split(',').filter(Boolean);
const USERS = JSON.parse(process.env.OP_USERS || JSON.stringify({
  alice: { email: 'alice@ministere.example', email_verified: true, name: 'Alice Dupré',
           groups: ['ministere:tenant-admin'] },
}));
const API_AUDIENCE = process.env.OP_API_AUDIENCE || 'urn:souverain:api';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', use: 'sig', alg: 'RS256' };

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: 'souverain', client_secret: process.env.OP_CLIENT_SECRET || 'souverain-test-secret',
    redirect_uris: list('OP_REDIRECT_URIS', 'http://127.0.0.1:8000/sso/callback/'),
    post_logout_redirect_uris: list('OP_LOGOUT_URIS', 'http://127.0.0.1:8000/login/'),
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  conformIdTokenClaims: false,
  jwks: { keys: [jwk] },
  cookies: { keys: ['test-only-cookie-key'] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true, logoutSource: async (ctx, form) => {
      // Submit the "do you want to sign out" form at once: the test browser has nothing to decide.
      ctx.body = `<!DOCTYPE html><html><head><title>Logout</title></head><body>${form}
        <button autofocus type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
        </body></html>`;
    } },
    // Access tokens for the API's resource indicator are signed JWTs the API checks against /jwks.
    resourceIndicators: {
      enabled: true,
      defaultResource: () => API_AUDIENCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: 'openid email profile groups', audience: API_AUDIENCE,
                                      accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
    },
  },
  async extraTokenClaims(ctx, token) {
    // The API maps the caller from the token's own claims (no userinfo round trip per request).
    const user = USERS[token.accountId];
    return user ? { email: user.email, groups: user.groups || [] } : {};
  },
  async findAccount(ctx, id) {
    return USERS[id] && { accountId: id, async claims() { return { sub: id, ...USERS[id] }; } };
  },
  async loadExistingGrant(ctx) {
    const id = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (id) return ctx.oidc.provider.Grant.find(id);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId,
                                               accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile groups');
    grant.addResourceScope(API_AUDIENCE, 'openid email profile groups');
    await grant.save();
    return grant;
  },
});
provider.listen(PORT, '127.0.0.1', () => console.log(`OP ready ${ISSUER} pid=${process.pid}`));
