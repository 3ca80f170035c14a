// A real OpenID provider for the single sign-on tests and CI: the certified
// `oidc-provider` package with its development sign-in pages (any password is taken;
// the login must be one of the accounts below). Never deployed.
//
//   node provider.mjs            listens on 127.0.0.1:$PORT (default 0: a free port)
//
// Environment:
//   PORT                      port (0: a free one, printed on the first line)
//   OIDC_TEST_CLIENT_ID       the product's client id         (default "governance")
//   OIDC_TEST_CLIENT_SECRET   its secret                      (default "governance-secret")
//   OIDC_TEST_REDIRECT_URIS   the product's callback URLs, comma-separated
//   OIDC_TEST_ACCOUNTS        JSON {"login": {"email": ..., "name": ..., "groups": [...]}}
//
// Test control (only on this test provider): POST /_test/accounts/<login>/deactivate and
// /activate; a deactivated account cannot sign in and its tokens are refused by userinfo.
// On start it prints one line: `listening <issuer>`.

import http from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 0);
const clientId = process.env.OIDC_TEST_CLIENT_ID || 'governance';
const clientSecret = process.env.OIDC_TEST_CLIENT_SECRET || 'governance-secret';
const redirectUris = (process.env.OIDC_TEST_REDIRECT_URIS || 'http://127.0.0.1:8000/oidc/callback/')
  .split(',').map((uri) => uri.trim()).filter(Boolean);
const accounts = JSON.parse(process.env.OIDC_TEST_ACCOUNTS || JSON.stringify({
  lead: { email: 'lead@example.org', name: 'Lena Lead', groups: ['gov-leads'] },
  risk: { email: 'risk@example.org', name: 'Rita Risk', groups: ['risk-officers'] },
}));
const inactive = new Set();
const SCOPE = 'openid email profile groups';

function findAccount(ctx, id) {
  const account = accounts[id];
  if (!account || inactive.has(id)) return undefined;
  return {
    accountId: id,
    async claims() {
      const claims = {
        sub: id,
        email: account.email,
        email_verified: true,
        name: account.name || id,
        preferred_username: id,
      };
      if (account.groups !== undefined) claims.groups = account.groups;
      return claims;
    },
  };
}

async function startProvider(issuerPort) {
  const issuer = `http://127.0.0.1:${issuerPort}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_post',
      require_auth_time: true,
    }],
    findAccount,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
    },
    pkce: { required: () => false },
    features: { devInteractions: { enabled: true } },
    // The product is this provider's own first-party client: no consent page.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        const existing = await ctx.oidc.provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(SCOPE);
      await grant.save();
      return grant;
    },
  });
  provider.use(async (ctx, next) => {
    const match = ctx.path.match(/^\/_test\/accounts\/([^/]+)\/(deactivate|activate)$/);
    if (match && ctx.method === 'POST') {
      const [, login, action] = match;
      if (!accounts[login]) {
        ctx.status = 404;
        return;
      }
      if (action === 'deactivate') inactive.add(login); else inactive.delete(login);
      ctx.body = { login, active: !inactive.has(login) };
      return;
    }
    await next();
  });
  return provider;
}

// Bind first (port 0 gives a free one), then build the provider with its issuer URL.

const server = http.createServer();
server.listen(port, '127.0.0.1', async () => {
  const actual = server.address().port;
  const provider = await startProvider(actual);
  server.on('request', provider.callback());
  process.stdout.write(`listening http://127.0.0.1:${actual}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
