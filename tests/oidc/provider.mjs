// A third-party OpenID Connect provider for camgate's sign-in tests: panva's oidc-provider (certified),
// configured here and nothing else. Settings come from the environment (tests/identity/oidc_provider.py):
//   OIDC_PORT          port on 127.0.0.1
//   OIDC_JWKS          path of a private JWK Set (the first RSA key signs ID tokens)
//   OIDC_CLIENT_ID     camgate's client (public: PKCE, no secret)
//   OIDC_REDIRECT_URI  camgate's /auth/callback
//   OIDC_ACCOUNT       JSON {"sub": ..., "agency": ..., "roles": [...]}: the one test account
// Interactions complete by themselves: the login prompt signs the test account in, consent grants the
// requested scopes (the tests drive the browser's redirects over HTTP).
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const account = JSON.parse(process.env.OIDC_ACCOUNT);

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    token_endpoint_auth_method: 'none',
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  jwks: JSON.parse(readFileSync(process.env.OIDC_JWKS, 'utf8')),
  pkce: { required: () => true },
  scopes: ['openid', 'camgate'],
  claims: { openid: ['sub'], camgate: ['agency', 'roles'] },
  conformIdTokenClaims: false, // put the scope's claims in the ID token (camgate maps the ID token only)
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, agency: account.agency, roles: account.roles }),
  }),
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['camgate-tests-only'] },
});

provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    let result;
    if (details.prompt.name === 'login') {
      result = { login: { accountId: account.sub } };
    } else {
      const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      result = { consent: { grantId: await grant.save() } };
    }
    const url = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
    ctx.redirect(url);
    return;
  }
  await next();
});

provider.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
